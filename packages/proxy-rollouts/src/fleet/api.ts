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
