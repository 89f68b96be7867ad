// Runs each product's demo in turn and prints one summary line per product. A product's demo is a function
// `(log) => Promise<string>` that narrates to `log` and returns its summary line.
import { demoBpf } from '@harbormaster/bpf/demo';
import { demoMigration } from '@harbormaster/dependabot2renovate';
import { demoControlPlane } from '@harbormaster/kube-testenv/demo';
import { demoCapture } from '@harbormaster/packetcapture/demo';
import { demoFleetRollout, demoRollouts } from '@harbormaster/proxy-rollouts/demo';

type Demo = { title: string; run: (log: (line: string) => void) => Promise<string> };

const demos: Demo[] = [
  { title: 'Kubernetes control plane for tests (kube, kube-testenv)', run: demoControlPlane },
  { title: 'PacketCapture filters: classic BPF compiler (bpf)', run: demoBpf },
  { title: 'Packet capture engine: kernel capture to pcapng (packetcapture)', run: demoCapture },
  { title: 'Dependabot → Renovate migration (dependabot2renovate)', run: demoMigration },
  { title: 'Envoy Gateway proxy rollouts: hold, canary, promote, abort (proxy-rollouts)', run: demoRollouts },
  {
    title: 'Envoy Gateway fleet rollout: a blue/green wave, an analysis gate, a canary wave (proxy-rollouts)',
    run: demoFleetRollout,
  },
];

const summary: string[] = [];
let failed = false;
for (const { title, run } of demos) {
  console.log(`\n=== ${title}`);
  const started = Date.now();
  try {
    const line = await run((text) => console.log(`  ${text}`));
    summary.push(`ok    ${title}: ${line} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed = true;
    summary.push(`FAIL  ${title}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
console.log(`\n=== Summary\n${summary.join('\n')}`);
process.exitCode = failed ? 1 : 0;
