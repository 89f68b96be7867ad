// Test-only: a mix of real traffic from namespace a to b (ping and ping6 incl. fragmented ones, TCP and UDP
// over IPv4 and IPv6 with socat, a closed port's RST and port-unreachable ICMP) plus injected frames for what
// the stack does not send on its own (802.1Q tags, IPv6 extension headers, IPv4 options and hand-made
// fragments, TCP flag combinations, port ranges).
import { spawn } from 'node:child_process';
import { body, ethernet, extension, fragmentHeader, ipv4, ipv6, tcp, udp } from './frames.ts';
import { injectPath, toHex } from './inject.ts';
import type { Pair } from './netns.ts';

export function injectedFrames(): Uint8Array[] {
  const [a4, b4, a6, b6] = ['10.77.0.1', '10.77.0.2', 'fd77::1', 'fd77::2'];
  const withOptions = ipv4(a4, b4, 17, udp(1500, 2000, body(10)));
  withOptions[0] = 0x46; // IHL 6: one word of options (NOPs) before UDP
  withOptions.splice(20, 0, 1, 1, 1, 1);
  withOptions[3] = (withOptions[3] ?? 0) + 4;
  return [
    ethernet(0x0800, ipv4(a4, b4, 17, udp(1000, 2000, body(20))), 100),
    ethernet(0x86dd, ipv6(a6, b6, 6, tcp(1234, 8080, 0x02)), 100),
    ethernet(0x86dd, ipv6(a6, b6, 0, extension(17, udp(1001, 5353, body(12))))),
    ethernet(0x86dd, ipv6(a6, b6, 60, extension(6, tcp(1999, 80, 0x12)))),
    ethernet(0x86dd, ipv6(a6, b6, 43, extension(58, [128, 0, 0, 0, 0, 1, 0, 1]))),
    ethernet(0x86dd, ipv6(a6, b6, 44, fragmentHeader(17, 0, true, udp(1500, 2000, body(24))))),
    ethernet(0x86dd, ipv6(a6, b6, 44, fragmentHeader(17, 4, false, body(16)))),
    ethernet(0x0800, withOptions),
    ethernet(0x0800, ipv4(a4, b4, 17, udp(1000, 2000, body(40)), 0x2000)),
    ethernet(0x0800, ipv4(a4, b4, 17, body(40), 0x0005)),
    ...[0x02, 0x12, 0x10, 0x18, 0x01, 0x11, 0x04, 0x14, 0x29].map((flags, i) =>
      ethernet(
        0x0800,
        ipv4(a4, b4, 6, tcp(40000 + i, [80, 443, 8080, 1000, 2000, 8999, 9000][i % 7]!, flags)),
      ),
    ),
    ethernet(0x0800, ipv4(b4, a4, 17, udp(53, 33333, body(600)))),
    ethernet(0x86dd, ipv6(b6, a6, 17, udp(53, 33333, body(1200)))),
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the whole mix once; takes about two seconds. */
export async function sendMix(pair: Pair): Promise<void> {
  const listener = spawn(
    'ip',
    ['netns', 'exec', pair.b, 'socat', '-u', 'TCP6-LISTEN:8080,reuseaddr,fork,ipv6only=0', 'OPEN:/dev/null'],
    {
      stdio: 'ignore',
    },
  );
  try {
    await sleep(300);
    const a = (args: string[], input?: string) => pair.execAsync(pair.a, args, input);
    await a(['ping', '-c', '3', '-i', '0.05', pair.v4.b]);
    await a(['ping', '-c', '2', '-i', '0.05', '-s', '3000', pair.v4.b]);
    await a(['ping', '-6', '-c', '3', '-i', '0.05', pair.v6.b]);
    await a(['ping', '-6', '-c', '2', '-i', '0.05', '-s', '3000', pair.v6.b]);
    await a(['socat', '-u', '-', `TCP4:${pair.v4.b}:8080`], 'x'.repeat(5000));
    await a(['socat', '-u', '-', `TCP6:[${pair.v6.b}]:8080`], 'y'.repeat(3000));
    await a(['socat', '-u', '-', `UDP4:${pair.v4.b}:2000`], 'udp over ipv4');
    await a(['socat', '-u', '-', `UDP6:[${pair.v6.b}]:5353`], 'udp over ipv6');
    // A closed TCP port answers with RST.
    await a(['socat', '-u', '-', `TCP4:${pair.v4.b}:9000`], 'z').catch(() => {});
    await a([injectPath(), 'va'], toHex(injectedFrames()));
    // Loopback traffic inside b.
    await pair.execAsync(pair.b, ['ping', '-c', '2', '-i', '0.05', '127.0.0.1']);
    await pair.execAsync(pair.b, ['ping', '-6', '-c', '2', '-i', '0.05', '::1']);
    await sleep(200);
  } finally {
    listener.kill('SIGTERM');
  }
}
