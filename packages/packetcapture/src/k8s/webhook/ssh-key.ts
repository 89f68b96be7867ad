// Checks that a fileServer.hostPublicKey is an SSH public key in wire format (RFC 4253 §6.6): the bytes of
// the base64 field of an OpenSSH `.pub` or known_hosts line, which is what the agent compares the server's
// host key with. A key in another form (PEM, a whole `ssh-ed25519 AAAA… comment` line) would never match,
// so every upload would fail at run time; refusing it at admission says why at once.

/** The key types an SSH server offers as host keys, each with the fields that follow the type name. */
const LAYOUTS: Record<string, (read: Reader) => string | undefined> = {
  'ssh-ed25519': (r) => (r.string().length === 32 ? undefined : 'the key is not 32 bytes'),
  'ssh-rsa': (r) => {
    r.string(); // e
    return r.string().length >= 128 ? undefined : 'the modulus is shorter than 1024 bits';
  },
  'ssh-dss': (r) => {
    for (let i = 0; i < 4; i++) r.string(); // p, q, g, y
    return undefined;
  },
  'ecdsa-sha2-nistp256': (r) => ecdsa(r, 'nistp256', 65),
  'ecdsa-sha2-nistp384': (r) => ecdsa(r, 'nistp384', 97),
  'ecdsa-sha2-nistp521': (r) => ecdsa(r, 'nistp521', 133),
};

function ecdsa(r: Reader, curve: string, pointLength: number): string | undefined {
  const name = r.string().toString('latin1');
  if (name !== curve) return `the curve is ${JSON.stringify(name)}, not ${curve}`;
  const point = r.string();
  return point.length === pointLength && point[0] === 4
    ? undefined
    : `the point is not an uncompressed ${curve} point of ${pointLength} bytes`;
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Buffer) {}
  /** An SSH `string`: a 32-bit big-endian length, then that many bytes. */
  string(): Buffer {
    if (this.offset + 4 > this.bytes.length) throw new RangeError('ends inside a length field');
    const length = this.bytes.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (start + length > this.bytes.length)
      throw new RangeError(`a field of ${length} bytes runs past the end`);
    this.offset = start + length;
    return this.bytes.subarray(start, this.offset);
  }
}

/**
 * Returns why `base64` is not an SSH wire-format public key, or undefined when it is one. The API server has
 * already checked that the field is base64 (`format: byte`).
 */
export function sshPublicKeyProblem(base64: string): string | undefined {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) return 'is empty';
  try {
    const reader = new Reader(bytes);
    const type = reader.string().toString('latin1');
    const layout = LAYOUTS[type];
    if (!layout) {
      return `has key type ${JSON.stringify(type.slice(0, 40))}; expected one of ${Object.keys(LAYOUTS).join(', ')}`;
    }
    const problem = layout(reader);
    if (problem) return `is not a valid ${type} key: ${problem}`;
    if (reader.offset !== bytes.length)
      return `has ${bytes.length - reader.offset} bytes after the ${type} key`;
    return undefined;
  } catch (error) {
    return `is not an SSH public key in wire format (RFC 4253 §6.6): ${(error as Error).message}`;
  }
}
