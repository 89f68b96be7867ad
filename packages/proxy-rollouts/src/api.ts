import type { Condition, ObjectMeta, ResourceType } from '@harbormaster/kube';
import { z } from 'zod';

/** The API group of every kind this package defines. */
export const group = 'rollouts.harbormaster.dev';
export const version = 'v1alpha1';

const ours = (kind: string, plural: string, namespaced: boolean): ResourceType => ({
  group,
  version,
  kind,
  plural,
  namespaced,
});

export const proxyRolloutType = ours('ProxyRollout', 'proxyrollouts', true);
export const proxyAnalysisTemplateType = ours('ProxyAnalysisTemplate', 'proxyanalysistemplates', true);
export const clusterProxyAnalysisTemplateType = ours(
  'ClusterProxyAnalysisTemplate',
  'clusterproxyanalysistemplates',
  false,
);

/** Metadata as the kube client keeps it: name and namespace checked, everything else passed through. */
const metadata = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
}) as unknown as z.ZodType<ObjectMeta & { name: string }>;
const typeMeta = { apiVersion: z.string().optional(), kind: z.string().optional(), metadata };

const duration = z.string().regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/, 'a Go duration such as 30s or 10m');

const TemplateRef = z.object({
  name: z.string().min(1),
  kind: z.enum(['ProxyAnalysisTemplate', 'ClusterProxyAnalysisTemplate']).default('ProxyAnalysisTemplate'),
});
const Arg = z.object({ name: z.string().min(1), value: z.string() });

export const AnalysisStep = z.object({ templateRef: TemplateRef, args: z.array(Arg).optional() });
export type AnalysisStep = z.infer<typeof AnalysisStep>;

export const CanaryStep = z.union([
  z.object({
    setReplicas: z.union([
      z.object({ count: z.number().int().min(1) }),
      z.object({ percentOfStable: z.number().int().min(1).max(100) }),
    ]),
  }),
  z.object({ pause: z.object({ duration: duration.optional() }) }),
  z.object({ analysis: AnalysisStep }),
]);
export type CanaryStep = z.infer<typeof CanaryStep>;

export const CanaryStrategy = z.object({
  steps: z.array(CanaryStep).min(1),
  backgroundAnalysis: AnalysisStep.extend({
    startingStep: z.number().int().min(0).default(0),
  }).optional(),
});
export type CanaryStrategy = z.infer<typeof CanaryStrategy>;

/** The label left off a blue/green revision's pods until it goes live (one of EG's Service selector keys). */
export const defaultGateLabel = 'app.kubernetes.io/managed-by';

/**
 * Blue/green (design §5.2 step 4): the new revision at full size, not live (the gate label left off its
 * pods), a preview Service in front of it, promoted by relabelling its pods in place.
 */
export const BlueGreenStrategy = z.object({
  previewService: z.boolean().default(true),
  gateLabel: z.string().min(1).default(defaultGateLabel),
  /** Promote this long after every preview pod is Ready and prePromotionAnalysis passed; unset: wait for promote. */
  autoPromotionSeconds: z.number().int().min(0).optional(),
  prePromotionAnalysis: AnalysisStep.optional(),
});
export type BlueGreenStrategy = z.infer<typeof BlueGreenStrategy>;

/** One node batch of a DaemonSet rollout: a node count (`1 node`, `3 nodes`) or a percentage (`10%`). */
export const nodeBatchPattern = /^([1-9][0-9]{0,4} nodes?|([1-9]|[1-9][0-9]|100)%)$/;
export const defaultNodeBatches = ['1 node', '10%', '50%', '100%'];

/** A DaemonSet fleet (EG's `envoyDaemonSet` with `OnDelete`): nodes move in batches, analysed in between. */
export const DaemonSetStrategy = z.object({
  batches: z
    .array(z.string().regex(nodeBatchPattern, 'a node count such as "1 node" or a percentage such as "10%"'))
    .min(1)
    .default(defaultNodeBatches),
  analysis: AnalysisStep.optional(),
});
export type DaemonSetStrategy = z.infer<typeof DaemonSetStrategy>;

export const ProxyRolloutSpec = z.object({
  targetRef: z.object({
    kind: z.enum(['Gateway', 'GatewayClass']),
    name: z.string().min(1),
    namespace: z.string().optional(),
  }),
  hold: z.boolean().default(true),
  autoStart: z.boolean().default(false),
  approvedRevision: z.string().optional(),
  paused: z.boolean().default(false),
  progressDeadlineSeconds: z.number().int().min(10).default(600),
  onDelete: z.enum(['LeavePaused', 'Resume']).default('LeavePaused'),
  /** Exactly one of them (the CRD's CEL rule says so too). */
  strategy: z
    .object({
      canary: CanaryStrategy.optional(),
      blueGreen: BlueGreenStrategy.optional(),
      daemonSet: DaemonSetStrategy.optional(),
    })
    .refine((s) => [s.canary, s.blueGreen, s.daemonSet].filter((x) => x !== undefined).length === 1, {
      message: 'exactly one of canary, blueGreen or daemonSet',
    }),
});
export type ProxyRolloutSpec = z.infer<typeof ProxyRolloutSpec>;

/** The canary steps of a spec; a blue/green rollout has none. */
export const canaryOf = (spec: ProxyRolloutSpec): CanaryStrategy | undefined => spec.strategy.canary;
export const blueGreenOf = (spec: ProxyRolloutSpec): BlueGreenStrategy | undefined => spec.strategy.blueGreen;

/** Every analysis a spec refers to (steps, background, pre-promotion), for template look-ups. */
export function analysisRefs(spec: ProxyRolloutSpec): AnalysisStep[] {
  const canary = canaryOf(spec);
  const blueGreen = blueGreenOf(spec);
  return [
    ...(canary?.steps.flatMap((s) => ('analysis' in s ? [s.analysis] : [])) ?? []),
    ...(canary?.backgroundAnalysis ? [canary.backgroundAnalysis] : []),
    ...(blueGreen?.prePromotionAnalysis ? [blueGreen.prePromotionAnalysis] : []),
  ];
}

export const phases = [
  'Idle',
  'Pending',
  'Progressing',
  'Paused',
  'Promoting',
  'Succeeded',
  'Aborting',
  'Aborted',
  'Degraded',
] as const;
export type Phase = (typeof phases)[number];

export const Revision = z.object({
  hash: z.string(),
  envoyImage: z.string().optional(),
  shutdownManagerImage: z.string().optional(),
  detectedAt: z.string().optional(),
});
export type Revision = z.infer<typeof Revision>;

export const PodCounters = z.object({
  pod: z.string(),
  errors: z.number().default(0),
  total: z.number().default(0),
  ldsRejected: z.number().default(0),
  cdsRejected: z.number().default(0),
});
export type PodCounters = z.infer<typeof PodCounters>;

export const MetricTally = z.object({
  name: z.string(),
  successful: z.number().int().default(0),
  failed: z.number().int().default(0),
  inconclusive: z.number().int().default(0),
  errors: z.number().int().default(0),
  lastMeasuredAt: z.string().optional(),
  lastValue: z.string().optional(),
  /** envoyStats: each pod's counters at the last scrape (the baseline of the next diff). */
  baseline: z.array(PodCounters).optional(),
});
export type MetricTally = z.infer<typeof MetricTally>;

export const AnalysisRun = z.object({
  name: z.string(),
  step: z.number().int().optional(),
  template: z.string().optional(),
  phase: z.enum(['Running', 'Successful', 'Failed', 'Inconclusive', 'Error']),
  startedAt: z.string().optional(),
  message: z.string().optional(),
  metrics: z.array(MetricTally).default([]),
});
export type AnalysisRun = z.infer<typeof AnalysisRun>;

const ConditionSchema: z.ZodType<Condition> = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().optional(),
});

export const ProxyRolloutStatus = z.object({
  phase: z.enum(phases).optional(),
  message: z.string().optional(),
  observedGeneration: z.number().int().optional(),
  workload: z.object({ kind: z.string(), name: z.string(), namespace: z.string() }).optional(),
  stableRevision: Revision.optional(),
  pendingRevision: Revision.optional(),
  abortedRevision: z.string().optional(),
  currentStep: z.number().int().optional(),
  stepStartedAt: z.string().optional(),
  canaryReplicas: z.number().int().optional(),
  canaryReadyReplicas: z.number().int().optional(),
  /** Blue/green: the preview Service, whether the new revision's pods are live, since when they are ready. */
  blueGreen: z
    .object({ previewService: z.string().optional(), live: z.boolean(), readyAt: z.string().optional() })
    .optional(),
  analysisRuns: z.array(AnalysisRun).optional(),
  daemonSet: z
    .object({
      /** Nodes whose proxy pod runs the DaemonSet's current template. */
      updatedNodes: z.array(z.string()).default([]),
      /** Nodes whose proxy pod runs another revision (the one being replaced). */
      pendingNodes: z.array(z.string()).default([]),
      /** The nodes of the current batch (chosen when it starts). */
      batchNodes: z.array(z.string()).optional(),
      /** Every node of the current batch runs a Ready pod of the new revision. */
      batchMoved: z.boolean().optional(),
      /** How many nodes ran another revision when the rollout started: the base of the batch percentages. */
      nodesToMove: z.number().int().optional(),
    })
    .optional(),
  conditions: z.array(ConditionSchema).optional(),
});
export type ProxyRolloutStatus = z.infer<typeof ProxyRolloutStatus>;

export const ProxyRollout = z.object({
  ...typeMeta,
  spec: ProxyRolloutSpec,
  status: ProxyRolloutStatus.optional(),
});
export type ProxyRollout = z.infer<typeof ProxyRollout>;

export const Metric = z.object({
  name: z.string().min(1),
  interval: duration.default('30s'),
  count: z.number().int().min(1).default(3),
  failureLimit: z.number().int().min(0).default(0),
  minSamples: z.number().int().min(0).default(0),
  successCondition: z.string().optional(),
  provider: z.union([
    z.object({ prometheus: z.object({ address: z.string().url(), query: z.string().min(1) }) }),
    z.object({
      envoyStats: z.object({
        port: z.number().int().default(19001),
        path: z.string().default('/stats/prometheus'),
        responseCodeClass: z.enum(['4', '5']).default('5'),
      }),
    }),
    z.object({ kubernetes: z.object({}) }),
    z.object({ webhook: z.object({ url: z.string().url() }) }),
  ]),
});
export type Metric = z.infer<typeof Metric>;

export const AnalysisTemplateSpec = z.object({
  args: z.array(z.object({ name: z.string(), value: z.string().optional() })).optional(),
  metrics: z.array(Metric).min(1),
});
export type AnalysisTemplateSpec = z.infer<typeof AnalysisTemplateSpec>;

export const AnalysisTemplate = z.object({ ...typeMeta, spec: AnalysisTemplateSpec });
export type AnalysisTemplate = z.infer<typeof AnalysisTemplate>;

/** Manual actions, set as this annotation on a ProxyRollout (or by the CLI); the controller clears it. */
export const actionAnnotation = `${group}/action`;
export const manualActions = ['promote', 'abort', 'retry', 'skip-step'] as const;
export type ManualAction = (typeof manualActions)[number];

/** The field manager of every write this controller makes; the only field it applies to EG's Deployment is spec.paused. */
export const fieldManager = 'proxy-rollouts';
export const finalizer = `${group}/hold`;
export const labels = {
  /** On canary ReplicaSets and their pods: the ProxyRollout's uid (names can repeat across namespaces). */
  rollout: `${group}/rollout-uid`,
  role: `${group}/role`,
  revision: `${group}/revision`,
} as const;
