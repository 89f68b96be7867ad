import type { Condition, KubeObject, ObjectMeta, ResourceType } from '@harbormaster/kube';
import { z } from 'zod';
import { AnalysisRun, AnalysisStep, group, ProxyRolloutSpec, phases, version } from '../api.ts';

export const proxyFleetRolloutType: ResourceType = {
  group,
  version,
  kind: 'ProxyFleetRollout',
  plural: 'proxyfleetrollouts',
  namespaced: true,
};

/** Gateway API Gateways, the objects a fleet selects. */
export const gatewayType: ResourceType = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind: 'Gateway',
  plural: 'gateways',
  namespaced: true,
};
export type Gateway = KubeObject & { spec?: { gatewayClassName?: string } };

const metadata = z.looseObject({
  name: z.string(),
  namespace: z.string().optional(),
}) as unknown as z.ZodType<ObjectMeta & { name: string }>;

const duration = z.string().regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/, 'a Go duration such as 30s or 10m');

export const LabelSelector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.object({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});
export type LabelSelector = z.infer<typeof LabelSelector>;

/**
 * What must happen before a wave starts: a user's approval, a pause, or an analysis run that compares the
 * Gateways the earlier waves upgraded (as the canary) with those not rolled yet (as the stable fleet).
 */
export const Gate = z.union([
  z.object({ approval: z.object({}) }),
  z.object({ pause: z.object({ duration }) }),
  z.object({ analysis: AnalysisStep }),
]);
export type Gate = z.infer<typeof Gate>;
export const gateKinds = ['approval', 'pause', 'analysis'] as const;
export type GateKind = (typeof gateKinds)[number];

/** One wave: exactly one of named Gateways, a percentage of the fleet, or the rest. */
export const Wave = z
  .object({
    gateways: z.array(z.string().min(1)).min(1).optional(),
    percent: z.number().int().min(1).max(100).optional(),
    rest: z.literal(true).optional(),
    /** Members of this wave rolling at once (default: spec.maxConcurrent). */
    maxConcurrent: z.number().int().min(1).optional(),
    /** Checked before this wave starts, once its predecessors succeeded. */
    gate: Gate.optional(),
    /** This wave's members roll with this strategy instead of the template's (validated the same way). */
    strategy: ProxyRolloutSpec.shape.strategy.optional(),
  })
  .refine((w) => [w.gateways, w.percent, w.rest].filter((x) => x !== undefined).length === 1, {
    message: 'a wave has exactly one of gateways, percent or rest',
  });
export type Wave = z.infer<typeof Wave>;

/** A ProxyRollout spec without what the fleet decides (the target and the approval). */
export const MemberTemplate = ProxyRolloutSpec.omit({
  targetRef: true,
  autoStart: true,
  approvedRevision: true,
});
export type MemberTemplate = z.infer<typeof MemberTemplate>;

/**
 * A pre-flight of a new Envoy Gateway control plane (Istio's revision tags are the model): the user runs the
 * new EG beside the old one under its own controllerName; the fleet lends it a few Gateways (through a
 * GatewayClass of that controller), compares how the new EG accepts their configuration with how the old one
 * did over the soak, and moves them back. Nothing is approved until it passed.
 */
export const ControlPlaneCanary = z
  .object({
    /** The new EG's gateway.controllerName. */
    controllerName: z.string().min(1),
    /** The GatewayClass of that controller; created (copying the original class's parametersRef) if missing. */
    gatewayClassName: z.string().min(1),
    /** The Gateways to lend, by name, or `count` of the fleet's, taken in wave order. */
    gateways: z.array(z.string().min(1)).min(1).optional(),
    count: z.number().int().min(1).optional(),
    /** How long the lent Gateways run under the new EG once it programmed them all. */
    soak: duration,
    /** xDS updates the new EG's proxies may reject (xds_nack_total) beyond the old EG's count. */
    failureLimit: z.number().int().min(0).default(0),
    /** How long the new EG may take to program the lent Gateways. */
    programmedDeadlineSeconds: z.number().int().min(10).default(300),
    /** Where each EG serves its metrics (xds_nack_total); without `canary`, NACKs are not compared. */
    metrics: z
      .object({ canary: z.string().url().optional(), stable: z.string().url().optional() })
      .optional(),
  })
  .refine((c) => (c.gateways === undefined) !== (c.count === undefined), {
    message: 'a control-plane canary takes exactly one of gateways or count',
  });
export type ControlPlaneCanary = z.infer<typeof ControlPlaneCanary>;

export const ProxyFleetRolloutSpec = z.object({
  selector: LabelSelector.optional(),
  gatewayClassName: z.string().min(1).optional(),
  template: MemberTemplate,
  waves: z.array(Wave).min(1),
  maxConcurrent: z.number().int().min(1).default(5),
  /**
   * How long after the first pending revision of a round nothing is approved: EG re-renders every proxy
   * Deployment at once, but members notice theirs one by one, and a wave whose members have not noticed yet
   * would look up to date.
   */
  detectionWindowSeconds: z.number().int().min(0).default(15),
  controlPlaneCanary: ControlPlaneCanary.optional(),
});
export type ProxyFleetRolloutSpec = z.infer<typeof ProxyFleetRolloutSpec>;

export const fleetPhases = ['Idle', 'Progressing', 'Waiting', 'Succeeded', 'Halted', 'Aborted'] as const;
export type FleetPhase = (typeof fleetPhases)[number];

export const GatewayRow = z.object({
  gateway: z.string(),
  wave: z.number().int(),
  member: z.string(),
  /** The member ProxyRollout's phase, or Creating before it reported one. */
  phase: z.enum([...phases, 'Creating']),
  revision: z.string().optional(),
  pendingRevision: z.string().optional(),
  /** The revision the fleet approved for this Gateway (what it writes into the member's spec). */
  approvedRevision: z.string().optional(),
  message: z.string().optional(),
});
export type GatewayRow = z.infer<typeof GatewayRow>;

const ConditionSchema: z.ZodType<Condition> = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().optional(),
});

/** What one EG said of one object: a condition of a Gateway, route or policy, for the lent Gateway. */
export const CanaryVerdict = z.object({
  gateway: z.string(),
  /** `Kind namespace/name`. */
  object: z.string(),
  condition: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type CanaryVerdict = z.infer<typeof CanaryVerdict>;

export const canaryPhases = ['Moving', 'Soaking', 'Restoring', 'Passed', 'Failed'] as const;

export const ControlPlaneCanaryStatus = z.object({
  /** The hash of spec.controlPlaneCanary this pre-flight ran for (another spec runs it again). */
  specHash: z.string(),
  phase: z.enum(canaryPhases),
  /** Where Restoring ends. */
  outcome: z.enum(['Passed', 'Failed']).optional(),
  message: z.string().optional(),
  startedAt: z.string(),
  soakStartedAt: z.string().optional(),
  oldControllerName: z.string().optional(),
  /** The canary GatewayClass the Gateways were lent through. */
  gatewayClassName: z.string().optional(),
  /** The pre-flight created the canary GatewayClass, and deletes it when its Gateways are back. */
  createdClass: z.boolean().optional(),
  /** The lent Gateways and the class each is moved back to. */
  gateways: z.array(z.object({ name: z.string(), originalClass: z.string() })).default([]),
  /** The old EG's verdicts on the lent Gateways and what hangs off them, before the move. */
  baseline: z.array(CanaryVerdict).default([]),
  /** The old EG's NACKs of the lent Gateways' proxies before the move, by xDS type. */
  baselineNacks: z.record(z.string(), z.number()).optional(),
  /** Successful reads of the new EG's xds_nack_total during the soak, and the last read's error. */
  nackReads: z.number().int().optional(),
  nackError: z.string().optional(),
  /** What the new EG rejected (or did not program), one line each. */
  rejected: z.array(z.string()).optional(),
});
export type ControlPlaneCanaryStatus = z.infer<typeof ControlPlaneCanaryStatus>;

export const ProxyFleetRolloutStatus = z.object({
  phase: z.enum(fleetPhases).optional(),
  message: z.string().optional(),
  observedGeneration: z.number().int().optional(),
  currentWave: z.number().int().optional(),
  /** The gate the fleet waits at: before `wave`, since `startedAt`. */
  gate: z.object({ wave: z.number().int(), kind: z.enum(gateKinds), startedAt: z.string() }).optional(),
  /** The analysis run of the analysis gate the fleet waits at (or the one that failed, until retry). */
  gateAnalysis: AnalysisRun.optional(),
  /** The analysis gate that failed and halted the fleet; kept until `retry`, which runs the gate again. */
  gateFailure: z
    .object({
      wave: z.number().int(),
      template: z.string(),
      metric: z.string().optional(),
      phase: z.string(),
      message: z.string(),
    })
    .optional(),
  /** When this round's first pending revision was seen (cleared when every Gateway is up to date). */
  roundStartedAt: z.string().optional(),
  /** Waves whose gate passed in this round (cleared when every Gateway is up to date). */
  passedGates: z.array(z.number().int()).optional(),
  /** The member abort that stopped the fleet; kept until `retry`. */
  halted: z.object({ gateway: z.string(), reason: z.string(), message: z.string() }).optional(),
  /** The user aborted the fleet; kept until `retry`. */
  aborted: z.boolean().optional(),
  /** When the user last retried: member aborts from before it are being retried, not new. */
  retriedAt: z.string().optional(),
  counts: z
    .object({
      total: z.number().int(),
      upToDate: z.number().int(),
      progressing: z.number().int(),
      waiting: z.number().int(),
      aborted: z.number().int(),
    })
    .optional(),
  gateways: z.array(GatewayRow).optional(),
  controlPlaneCanary: ControlPlaneCanaryStatus.optional(),
  conditions: z.array(ConditionSchema).optional(),
});
export type ProxyFleetRolloutStatus = z.infer<typeof ProxyFleetRolloutStatus>;

export const ProxyFleetRollout = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata,
  spec: ProxyFleetRolloutSpec,
  status: ProxyFleetRolloutStatus.optional(),
});
export type ProxyFleetRollout = z.infer<typeof ProxyFleetRollout>;

/** Manual actions on a fleet, by the same annotation as on a ProxyRollout. */
export const fleetManualActions = ['approve', 'abort', 'retry'] as const;
export type FleetManualAction = (typeof fleetManualActions)[number];

export const fleetLabels = {
  /** On member ProxyRollouts: the fleet's name and the Gateway they roll. */
  fleet: `${group}/fleet`,
  gateway: `${group}/gateway`,
} as const;
/** On member ProxyRollouts: the hash of the fleet template they were applied from. */
export const templateHashAnnotation = `${group}/template-hash`;
export const fleetFieldManager = 'proxy-rollouts-fleet';
