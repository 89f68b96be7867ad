import { type Network, networkWords } from '../address.ts';
import { and, andAll, type Block, not, or, orAll, stmt, test } from '../codegen/blocks.ts';
import { protochainWalk, walkDepth } from '../codegen/protochain.ts';
import type { RawInstruction } from '../instructions.ts';
import type { Normalized, Range } from './normalize.ts';

// Raw statements used by the layout.
const ld = (size: 'w' | 'h' | 'b', k: number) => stmt({ w: 0x20, h: 0x28, b: 0x30 }[size], k);
const ldInd = (size: 'w' | 'h' | 'b', k: number) => stmt({ w: 0x40, h: 0x48, b: 0x50 }[size], k);
const andK = (k: number) => stmt(0x54, k);

/** Where the upper-layer header starts and how to load from it; tracks whether X already holds its offset. */
interface Upper {
  load(size: 'h' | 'b', off: number): RawInstruction[];
  /** Checks that must pass before the upper-layer header may be read (IPv4: first fragment only). */
  guard(): Block[];
}

/**
 * The fixed layout, chosen to equal what libpcap's optimiser makes of the matching tcpdump expression:
 * link type, protocol, addresses, then (IPv4) the first-fragment check and the ports through the header
 * length in X, then TCP flags or ICMP type and code. IPv6 with upper-layer tests puts the addresses before the
 * next-header test, and without them tests the protocol first, allowing one fragment header as `ip6 proto` does.
 */
export function layout(n: Normalized, link: number): Block {
  const parts: Block[] = [];
  const ethertype = n.family === 4 ? 0x0800 : 0x86dd;
  parts.push(test([ld('h', link - 2)], 'jeq', ethertype));
  const hasUpper =
    n.srcPort !== undefined || n.dstPort !== undefined || n.flags.length > 0 || n.icmp.length > 0;
  const upper = n.family === 4 ? ipv4Upper(link) : n.walk ? walkedUpper(link) : fixedUpper(link);

  const addresses = (src?: Network[], dst?: Network[]): Block[] => {
    const [srcOff, dstOff] = n.family === 4 ? [12, 16] : [8, 24];
    // Next to protochain libpcap does not optimise, so it loads every address word, even one masked to zero;
    // on a frame cut inside the address that load fails, and ours must too.
    const all = n.walk;
    return [...(src ? hosts(src, link + srcOff, all) : []), ...(dst ? hosts(dst, link + dstOff, all) : [])];
  };
  const ports = (src?: Range, dst?: Range): Block[] => [
    ...(src ? [port(upper, 0, src)] : []),
    ...(dst ? [port(upper, 2, dst)] : []),
  ];
  const proto = (): Block[] => {
    if (n.protocol === undefined) return [];
    if (n.family === 4) return [test([ld('b', link + 9)], 'jeq', n.protocol)];
    if (n.walk) return [protochainWalk(link, n.protocol, 6, walkDepth(n.snaplen, link, 6))];
    if (hasUpper) return [test([ld('b', link + 6)], 'jeq', n.protocol)];
    return [
      or(
        test([ld('b', link + 6)], 'jeq', n.protocol),
        and(test([], 'jeq', 44), test([ld('b', link + 40)], 'jeq', n.protocol)),
      ),
    ];
  };
  const direction = (src?: Network[], dst?: Network[], sp?: Range, dp?: Range): Block[] => {
    const addr = addresses(src, dst);
    const pts = ports(sp, dp);
    return [...addr, ...(pts.length ? [...upper.guard(), ...pts] : [])];
  };

  const v6AddressesFirst = n.family === 6 && hasUpper && !n.walk;
  if (!v6AddressesFirst) parts.push(...proto());
  if (n.both) {
    if (v6AddressesFirst) parts.push(...proto());
    const forward = direction(n.src, n.dst, n.srcPort, n.dstPort);
    const reverse = direction(n.dst, n.src, n.dstPort, n.srcPort);
    parts.push(or(andAll(forward), andAll(reverse)));
  } else {
    const addr = addresses(n.src, n.dst);
    parts.push(...addr);
    if (v6AddressesFirst) parts.push(...proto());
    if (n.srcPort || n.dstPort) parts.push(...upper.guard(), ...ports(n.srcPort, n.dstPort));
  }
  const portsGuarded = n.srcPort !== undefined || n.dstPort !== undefined;
  const rest: Block[] = [];
  if (n.flags.length) {
    rest.push(
      orAll(
        n.flags.map((f) =>
          test([...upper.load('b', 13), ...(f.mask === 0xff ? [] : [andK(f.mask)])], 'jeq', f.value),
        ),
      ),
    );
  }
  if (n.icmp.length) {
    rest.push(
      orAll(
        n.icmp.map((m) => {
          const type = test(upper.load('b', 0), 'jeq', m.type);
          return m.code === undefined ? type : and(type, test(upper.load('b', 1), 'jeq', m.code));
        }),
      ),
    );
  }
  if (rest.length) parts.push(...(portsGuarded && !n.both ? [] : upper.guard()), ...rest);
  return andAll(parts);
}

/** One network: its word tests; several: any of them (each network's tests ANDed, the networks ORed). */
function hosts(nets: Network[], off: number, everyWord: boolean): Block[] {
  const each = nets.map((net) => host(net, off, everyWord));
  if (each.length === 1) return each[0]!;
  // A network that tests nothing (a /0) matches every address, and so does the list.
  if (each.some((tests) => tests.length === 0)) return [];
  return [orAll(each.map(andAll))];
}

/**
 * One test per 32-bit word the prefix covers (`ld [off]; [and #mask;] jeq #value`), most significant first;
 * with `everyWord` also the words the prefix does not cover (`and #0; jeq #0`), as libpcap unoptimised.
 */
function host(net: Network, off: number, everyWord: boolean): Block[] {
  return networkWords(net).flatMap(({ value, mask }, w) =>
    mask === 0 && !everyWord
      ? []
      : [
          test(
            [ld('w', off + 4 * w), ...(mask === 0xffffffff ? [] : [andK(mask)])],
            'jeq',
            (value & mask) >>> 0,
          ),
        ],
  );
}

function port(upper: Upper, off: number, r: Range): Block {
  if (r.lo === r.hi) return test(upper.load('h', off), 'jeq', r.lo);
  return and(test(upper.load('h', off), 'jge', r.lo), not(test([], 'jgt', r.hi)));
}

// IPv4: X = 4 * IHL, loaded once before the first upper-layer load of each path; only first fragments.
function ipv4Upper(link: number): Upper {
  let xLoaded = false;
  return {
    guard() {
      xLoaded = false;
      return [not(test([ld('h', link + 6)], 'jset', 0x1fff))];
    },
    load(size, off) {
      const first = !xLoaded;
      xLoaded = true;
      return [...(first ? [stmt(0xb1, link)] : []), ldInd(size, link + off)];
    },
  };
}

// IPv6 as libpcap: the upper-layer header right after the 40-byte fixed header.
function fixedUpper(link: number): Upper {
  return { guard: () => [], load: (size, off) => [ld(size, link + 40 + off)] };
}

// IPv6 after protochain: X holds the upper-layer header's offset from the network header.
function walkedUpper(link: number): Upper {
  return { guard: () => [], load: (size, off) => [ldInd(size, link + off)] };
}
