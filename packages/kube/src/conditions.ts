import { metaTime } from './time.ts';

/** metav1.Condition. */
export type Condition = {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
};

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/**
 * Sets a condition and reports whether anything changed. lastTransitionTime moves only when the status
 * does, so a reconcile that repeats itself writes nothing (meta.SetStatusCondition's rule).
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  now: Date = new Date(),
): { conditions: Condition[]; changed: boolean } {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    ...update,
    lastTransitionTime:
      existing && existing.status === update.status
        ? existing.lastTransitionTime
        : (update.lastTransitionTime ?? metaTime(now)),
  };
  if (existing && sameCondition(existing, next)) return { conditions: list, changed: false };
  if (existing) list[index] = next;
  else list.push(next);
  return { conditions: list, changed: true };
}

export function removeCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): { conditions: Condition[]; changed: boolean } {
  const list = (conditions ?? []).filter((condition) => condition.type !== type);
  return { conditions: list, changed: list.length !== (conditions?.length ?? 0) };
}

export const isConditionTrue = (conditions: readonly Condition[] | undefined, type: string): boolean =>
  findCondition(conditions, type)?.status === 'True';

function sameCondition(a: Condition, b: Condition): boolean {
  return (
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.lastTransitionTime === b.lastTransitionTime &&
    a.observedGeneration === b.observedGeneration
  );
}
