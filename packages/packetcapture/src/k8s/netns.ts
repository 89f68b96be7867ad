// Finds a Pod's network namespace without asking a CNI: the namespace one of whose interfaces holds the Pod's
// IP. Candidates are the namespaces pinned under /run/netns (where CNIs and `ip netns` put them) and those of
// running processes (/proc/PID/ns/net: a Pod's pause container holds its namespace). Each namespace is
// looked at once (by inode) with `ip -json address` run inside it by nsenter.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PodNetwork {
  /** A path to the namespace (pinned file or /proc/PID/ns/net), as Capture.start takes it. */
  netns: string;
  /** The interface inside it that holds the address. */
  interface: string;
}

interface IpAddressEntry {
  ifname: string;
  addr_info?: { local?: string }[];
}

async function inode(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** Every distinct network namespace on the host except the agent's own, pinned ones first. */
export async function candidateNamespaces(runDir = '/run/netns'): Promise<string[]> {
  const seen = new Set<string>();
  const own = await inode('/proc/self/ns/net');
  if (own) seen.add(own);
  const paths: string[] = [];
  const add = async (path: string) => {
    const id = await inode(path);
    if (id && !seen.has(id)) {
      seen.add(id);
      paths.push(path);
    }
  };
  for (const name of await readdir(runDir).catch(() => [] as string[])) await add(join(runDir, name));
  for (const pid of await readdir('/proc')) if (/^\d+$/.test(pid)) await add(`/proc/${pid}/ns/net`);
  return paths;
}

/** Normalises an address for comparison (IPv6 text has several spellings). */
function canonical(address: string): string {
  if (!address.includes(':')) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}

async function interfaceHolding(netns: string, address: string): Promise<string | undefined> {
  let stdout: string;
  try {
    ({ stdout } = await run('nsenter', [`--net=${netns}`, 'ip', '-json', 'address', 'show'], {
      timeout: 5000,
    }));
  } catch {
    return undefined; // the process ended or the namespace went away meanwhile
  }
  const want = canonical(address);
  const entries = JSON.parse(stdout || '[]') as IpAddressEntry[];
  return entries.find((e) => e.addr_info?.some((a) => a.local !== undefined && canonical(a.local) === want))
    ?.ifname;
}

/** The namespace and interface that hold `address`, or undefined when no namespace on this host does. */
export async function findPodNetwork(address: string, runDir?: string): Promise<PodNetwork | undefined> {
  for (const netns of await candidateNamespaces(runDir)) {
    const found = await interfaceHolding(netns, address);
    if (found) return { netns, interface: found };
  }
  return undefined;
}
