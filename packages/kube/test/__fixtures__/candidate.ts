// A leader-election candidate process for leader-election.test.ts: prints LEADING/STOPPED lines to stdout.
import { KubeRest, LeaderElector, loadKubeConfig, shutdownSignal } from '../../src/index.ts';

const [kubeconfig, identity] = process.argv.slice(2);
const rest = new KubeRest(loadKubeConfig({ kubeconfig }));
const elector = new LeaderElector(rest, {
  namespace: 'default',
  name: 'candidates',
  identity: identity ?? 'unnamed',
  leaseDurationMs: 4000,
  renewDeadlineMs: 3000,
  retryPeriodMs: 500,
  releaseOnCancel: true,
  onStartedLeading: () => console.log(`LEADING ${identity} ${Date.now()}`),
  onStoppedLeading: () => console.log(`STOPPED ${identity} ${Date.now()}`),
});
await elector.run(shutdownSignal());
