// Writes the corpus to a pcap file once per process, for the libpcap oracle to read. Tests and the bench
// both use it, so the directory is removed when the process exits rather than by a test hook.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap } from '../../src/pcap.ts';
import type { Packet } from '../../src/vm.ts';
import { buildCorpus } from './corpus.ts';

let cached: { packets: Packet[]; file: string } | undefined;

export function corpusFile(): { packets: Packet[]; file: string } {
  if (!cached) {
    const packets = buildCorpus();
    const dir = mkdtempSync(join(tmpdir(), 'bpf-corpus-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'corpus.pcap');
    writeFileSync(file, writePcap(packets));
    cached = { packets, file };
  }
  return cached;
}
