// Dependabot schedule → Renovate cron. Renovate crons must use `*` minutes and only gate when branches may
// be created; the hosted app runs roughly every few hours, so a fixed time becomes a 4-hour window.
import type { Schedule } from './schema.ts';

const dayNumber: Record<string, number> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};

export type CronResult = { cron?: string; problem?: string; approximated?: string };

function hours(time: string | undefined): string {
  if (!time) return '*';
  const h = Number(time.slice(0, 2));
  const end = Math.min(h + 3, 23);
  return end === h ? String(h) : `${h}-${end}`;
}

export function scheduleToCron(s: Schedule): CronResult {
  const h = hours(s.time);
  const approximated = s.time
    ? `time ${s.time} became the window ${h.split('-')[0]}:00–${h.split('-').at(-1)}:59 (Renovate schedules have hour granularity and the app runs every few hours)`
    : undefined;
  switch (s.interval) {
    case 'daily':
      return { cron: `* ${h} * * 1-5`, approximated };
    case 'weekly':
      return { cron: `* ${h} * * ${dayNumber[s.day ?? 'monday']}`, approximated };
    case 'monthly':
      return { cron: `* ${h} 1 * *`, approximated };
    case 'quarterly':
      return { cron: `* ${h} 1 1,4,7,10 *`, approximated };
    case 'semiannually':
      return { cron: `* ${h} 1 1,7 *`, approximated };
    case 'yearly':
      return { cron: `* ${h} 1 1 *`, approximated };
    case 'cron':
      return cronjob(s.cronjob);
  }
}

function cronjob(expr: string | undefined): CronResult {
  if (!expr) return { problem: 'interval `cron` without `cronjob`' };
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every((f) => /^[\d*,/-]+$|^[A-Za-z]{3}(-[A-Za-z]{3})?$/.test(f)))
    return {
      problem: `cronjob "${expr}" is not a 5-field cron expression (natural-language schedules are not translated)`,
    };
  const [minute, hour, ...rest] = fields;
  return {
    cron: ['*', hour, ...rest].join(' '),
    approximated:
      minute === '*' ? undefined : `cronjob minute field "${minute}" dropped (Renovate needs \`*\` minutes)`,
  };
}
