// schedule → Renovate `schedule` (cron) and `timezone`. Renovate has one timezone per repository.
import type { Builder } from '../builder.ts';
import { scheduleToCron } from '../cron.ts';
import type { Schedule } from '../schema.ts';

export function cronFor(s: Schedule, path: (string | number)[], builder: Builder): string | undefined {
  const r = scheduleToCron(s);
  if (r.problem)
    builder.loss([...path, s.interval === 'cron' ? 'cronjob' : 'interval'], 'unsupported', r.problem);
  if (r.approximated) builder.loss([...path, s.time ? 'time' : 'cronjob'], 'approximated', r.approximated);
  return r.cron;
}

/** The repository timezone: the most common entry timezone; the others are reported. */
export function chooseTimezone(
  schedules: { s: Schedule; path: (string | number)[] }[],
  builder: Builder,
): string | undefined {
  const counts = new Map<string, number>();
  for (const { s } of schedules) counts.set(s.timezone ?? 'UTC', (counts.get(s.timezone ?? 'UTC') ?? 0) + 1);
  const tz = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? 'UTC';
  for (const { s, path } of schedules)
    if ((s.timezone ?? 'UTC') !== tz)
      builder.loss(
        [...path, 'timezone'],
        'approximated',
        `Renovate has one timezone per repository: ${tz} is used instead of ${s.timezone ?? 'UTC'}`,
      );
  return tz === 'UTC' ? undefined : tz;
}
