// What the two rollout reducers (a Deployment's canary or blue/green, src/reconcile.ts, and a DaemonSet's node
// batches, src/daemonset/reconcile.ts) write into a ProxyRollout's status the same way: the four condition
// types, timestamps, the phases a rollout is running in, and how a pending revision differs from the stable.
import { type Condition, type ConditionUpdate, setCondition } from '@harbormaster/kube';
import type { Phase, Revision } from './api.ts';

/** status, reason, message of one condition. */
export type ConditionTriple = [Condition['status'], string, string];
export type RolloutConditionUpdates = {
  held?: ConditionTriple;
  ready?: ConditionTriple;
  progressing?: ConditionTriple;
  degraded?: ConditionTriple;
};

const conditionTypes = {
  held: 'Held',
  ready: 'Ready',
  progressing: 'Progressing',
  degraded: 'Degraded',
} as const;

/** The conditions with the given ones set (a transition time changes only when a status does). */
export function withConditions(
  conditions: Condition[] | undefined,
  updates: RolloutConditionUpdates,
  observedGeneration: number,
  now: Date,
): Condition[] {
  let result = conditions ?? [];
  for (const [key, type] of Object.entries(conditionTypes) as [keyof typeof conditionTypes, string][]) {
    const triple = updates[key];
    if (!triple) continue;
    const update: ConditionUpdate = {
      type,
      status: triple[0],
      reason: triple[1],
      message: triple[2],
      observedGeneration,
    };
    result = setCondition(result, update, now).conditions;
  }
  return result;
}

/** The phases in which a rollout of a pending revision runs (a new revision then restarts it). */
export const isInFlight = (phase: Phase | undefined): boolean =>
  phase === 'Progressing' || phase === 'Paused' || phase === 'Promoting';

/** A timestamp as Kubernetes writes them (RFC 3339, whole seconds). */
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What changed from the stable revision to a pending one, for Events and messages. */
export function describeChange(from: Revision | undefined, to: Revision): string {
  const parts: string[] = [];
  if (from?.envoyImage !== to.envoyImage)
    parts.push(`envoy ${from?.envoyImage ?? '?'} → ${to.envoyImage ?? '?'}`);
  if (from?.shutdownManagerImage !== to.shutdownManagerImage)
    parts.push(`shutdown-manager ${from?.shutdownManagerImage ?? '?'} → ${to.shutdownManagerImage ?? '?'}`);
  return parts.length > 0 ? parts.join(', ') : 'template changed, same images';
}
