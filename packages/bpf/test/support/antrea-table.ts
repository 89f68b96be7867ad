// Antrea's BPF equivalence table (case name -> tcpdump expression), from the package's own fixtures.
import { readFileSync } from 'node:fs';

const TSV = new URL('../__fixtures__/antrea-bpf-equivalence-cases.tsv', import.meta.url);

/** The table's rows in file order: [case name, tcpdump expression]. */
export function antreaExpressions(): [string, string][] {
  return readFileSync(TSV, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t') as [string, string]);
}
