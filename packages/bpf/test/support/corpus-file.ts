// Writes the corpus to a pcap file once per process, for the libpcap oracle to read.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap } from '../../src/pcap.ts';
import type { Packet } from '../../src/vm.ts';
import { buildCorpus } from './corpus.ts';

let cached: { packets: Packet[]; file: string } | undefined;

export function corpusFile(): { packets: Packet[]; file: string } {
  if (!cached) {
    const packets = buildCorpus();
    const file = join(mkdtempSync(join(tmpdir(), 'bpf-corpus-')), 'corpus.pcap');
    writeFileSync(file, writePcap(packets));
    cached = { packets, file };
  }
  return cached;
}
