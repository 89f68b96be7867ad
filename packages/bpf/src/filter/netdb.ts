// The services, protocols, networks and ethers databases that libpcap consults through getaddrinfo,
// getprotobyname, getnetbyname and ether_hostton, read from the same files glibc's `files` backend reads. A built-in table stands in for a
// file that is missing, so `port http` means the same on a machine without netbase.
import { readFileSync } from 'node:fs';

export interface NetDb {
  /** Service name or alias -> port, per transport, first entry in file order (as getservbyname). */
  services: { tcp: Map<string, number>; udp: Map<string, number> };
  /** Protocol name or alias -> number (getprotobyname; names are case-sensitive). */
  protocols: Map<string, number>;
  /** Network name or alias -> network number in host order (getnetbyname: `127` is 0x7f). */
  networks: Map<string, number>;
  /** Host name -> Ethernet address (ether_hostton, `/etc/ethers`). */
  ethers: Map<string, number[]>;
}

export const NETDB_FILES = {
  services: '/etc/services',
  protocols: '/etc/protocols',
  networks: '/etc/networks',
  ethers: '/etc/ethers',
};

// Used only when a file is missing: the entries netbase ships that filters use most.
const FALLBACK_SERVICES = `ftp-data 20/tcp
ftp 21/tcp
ssh 22/tcp
telnet 23/tcp
smtp 25/tcp mail
domain 53/tcp
domain 53/udp
bootps 67/udp
bootpc 68/udp
tftp 69/udp
http 80/tcp www
pop3 110/tcp pop-3
sunrpc 111/tcp portmapper
sunrpc 111/udp portmapper
ntp 123/udp
imap2 143/tcp imap
snmp 161/tcp
snmp 161/udp
snmp-trap 162/tcp snmptrap
snmp-trap 162/udp snmptrap
bgp 179/tcp
ldap 389/tcp
ldap 389/udp
https 443/tcp
https 443/udp
isakmp 500/udp
syslog 514/udp
submission 587/tcp
ldaps 636/tcp
ldaps 636/udp
imaps 993/tcp
pop3s 995/tcp
openvpn 1194/tcp
openvpn 1194/udp
mysql 3306/tcp
postgresql 5432/tcp postgres
`;
const FALLBACK_PROTOCOLS = `ip 0 IP
hopopt 0 HOPOPT
icmp 1 ICMP
igmp 2 IGMP
ipencap 4 IP-ENCAP
tcp 6 TCP
egp 8 EGP
igp 9 IGP
udp 17 UDP
ipv6 41 IPv6
ipv6-route 43 IPv6-Route
ipv6-frag 44 IPv6-Frag
rsvp 46 RSVP
gre 47 GRE
esp 50 IPSEC-ESP
ah 51 IPSEC-AH
ipv6-icmp 58 IPv6-ICMP
ipv6-nonxt 59 IPv6-NoNxt
ipv6-opts 60 IPv6-Opts
ospf 89 OSPFIGP
pim 103 PIM
vrrp 112 VRRP
l2tp 115 L2TP
sctp 132 SCTP
udplite 136 UDPLite
mpls-in-ip 137 MPLS-in-IP
`;

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .filter((f) => f[0] !== '');

function read(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** inet_network: dotted parts, each shifting the value left by a byte. */
function networkNumber(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length > 4 || !parts.every((p) => /^\d+$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

export function loadNetDb(files: typeof NETDB_FILES = NETDB_FILES): NetDb {
  const db: NetDb = {
    services: { tcp: new Map(), udp: new Map() },
    protocols: new Map(),
    networks: new Map(),
    ethers: new Map(),
  };
  for (const [name, portProto, ...aliases] of lines(read(files.services, FALLBACK_SERVICES))) {
    const m = portProto?.match(/^(\d+)\/(tcp|udp)$/);
    if (!m) continue;
    const table = db.services[m[2] as 'tcp' | 'udp'];
    for (const n of [name!, ...aliases]) if (!table.has(n)) table.set(n, Number(m[1]));
  }
  for (const [name, number, ...aliases] of lines(read(files.protocols, FALLBACK_PROTOCOLS))) {
    if (!/^\d+$/.test(number ?? '')) continue;
    for (const n of [name!, ...aliases]) if (!db.protocols.has(n)) db.protocols.set(n, Number(number));
  }
  for (const [name, number, ...aliases] of lines(read(files.networks, ''))) {
    const n = networkNumber(number ?? '');
    if (n === undefined) continue;
    for (const a of [name!, ...aliases]) if (!db.networks.has(a)) db.networks.set(a, n);
  }
  for (const [mac, name] of lines(read(files.ethers, ''))) {
    const bytes = mac?.split(':');
    if (!name || bytes?.length !== 6 || !bytes.every((b) => /^[0-9A-Fa-f]{1,2}$/.test(b))) continue;
    if (!db.ethers.has(name))
      db.ethers.set(
        name,
        bytes.map((b) => Number.parseInt(b, 16)),
      );
  }
  return db;
}

let cached: NetDb | undefined;
/** The system's databases, read once per process. */
export const systemNetDb = (): NetDb => {
  cached ??= loadNetDb();
  return cached;
};

export type PortLookup = { port: number; proto: 'tcp' | 'udp' | 'any' } | undefined;

/** pcap_nametoport: the TCP entry wins; both with the same number mean any transport. */
export function lookupPort(db: NetDb, name: string): PortLookup {
  const tcp = db.services.tcp.get(name);
  const udp = db.services.udp.get(name);
  if (tcp !== undefined) return { port: tcp, proto: udp === tcp ? 'any' : 'tcp' };
  if (udp !== undefined) return { port: udp, proto: 'udp' };
  return undefined;
}
