// When Renovate's strict validator rejects our output, say which Dependabot key produced the rejected value:
// the validator names the Renovate option (`packageRules[3].allowedVersions`, `timezone: …`), and the
// conversion records where each top-level option and package rule came from. Pure.
import type { Conversion, Source } from './builder.ts';

export type Rejection = { option: string; message: string; source?: Source };

/** The validator's individual error/warning messages inside its log lines (`… errors=[{message}]`). */
function items(message: string): string[] {
  const out: string[] = [];
  for (const m of message.matchAll(/(?:errors|warnings)=(\[.*?\])(?= \w+=|$)/g)) {
    try {
      for (const e of JSON.parse(m[1]!) as { message?: string }[]) if (e.message) out.push(e.message);
    } catch {
      // not the JSON we expect: keep the whole line below
    }
  }
  return out.length ? out : [message];
}

export function locateRejections(conversion: Conversion, messages: readonly string[]): Rejection[] {
  const sources = conversion.sources;
  const topKeys = Object.keys(conversion.config).filter((k) => k !== 'packageRules');
  return messages.flatMap(items).map((message) => {
    const rule = /packageRules\[(\d+)\](?:\.[\w.]+)?/.exec(message);
    if (rule) return { option: rule[0], message, source: sources?.rules[Number(rule[1])] };
    const key =
      topKeys.find((k) => message.startsWith(`${k}:`) || message.startsWith(`${k}.`)) ??
      topKeys.find((k) => new RegExp(`\\b${k}\\b`).test(message));
    return { option: key ?? '(config)', message, source: key ? sources?.top[key] : undefined };
  });
}

/** `file:line:1: renovate-config-validator --strict rejected <option> (from `<key>`): <message> [rejected-value]` */
export function formatRejection(file: string, r: Rejection): string {
  const from = r.source ? ` (from \`${r.source.path}\`)` : '';
  return `${file}:${r.source?.line ?? 1}:1: renovate-config-validator --strict rejected ${r.option}${from}: ${r.message} [rejected-value]`;
}
