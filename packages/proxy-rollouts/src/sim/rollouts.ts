// The ProxyRollout the tests, the bench and the demo run on Gateway default/eg, and a probe for its phase.
import type { KubeObject, ResourceClient } from '@harbormaster/kube';
import type { ProxyRollout } from '../api.ts';

type Loose = KubeObject & Record<string, unknown>;

/** One canary pod, the envoyStats analysis `envoy-health` (ProxyStats.template), a one-second pause. */
export const analysedCanarySteps = [
  { setReplicas: { count: 1 } },
  { analysis: { templateRef: { name: 'envoy-health' } } },
  { pause: { duration: '1s' } },
];

/** A ProxyRollout `name` in `namespace` on the Gateway `gateway` of its namespace, with these canary steps. */
export function gatewayRollout(
  steps: unknown[] = analysedCanarySteps,
  spec: Record<string, unknown> = {},
  name = 'eg',
  namespace = 'default',
  gateway = name,
): ProxyRollout & Loose {
  return {
    metadata: { name, namespace },
    spec: { targetRef: { kind: 'Gateway', name: gateway }, strategy: { canary: { steps } }, ...spec },
  } as unknown as ProxyRollout & Loose;
}

/** A probe for `eventually`: the rollout once it is in `phase`. */
export const inPhase =
  (rollouts: ResourceClient<ProxyRollout & Loose>, phase: string, name = 'eg', namespace = 'default') =>
  async () => {
    const r = await rollouts.get(name, namespace);
    return r.status?.phase === phase ? r : undefined;
  };
