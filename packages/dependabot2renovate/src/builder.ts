// Collects the Renovate config being built: top-level options, package rules with the comment that says
// where each came from, and every Dependabot intent that could not be kept (a "loss") with its reason.
import type { Locate } from './parse.ts';
import { formatPath } from './parse.ts';

export type LossKind =
  | 'unsupported'
  | 'unknown-key'
  | 'approximated'
  | 'broadened'
  | 'manual-step'
  | 'ignored'
  | 'note';
export type Loss = { path: string; line?: number; kind: LossKind; message: string };
export type PackageRule = Record<string, unknown>;
export type RenovateConfig = Record<string, unknown> & { packageRules?: PackageRule[] };
export type Comments = { top: Record<string, string>; rules: string[] };
/** Where a Renovate option came from in the Dependabot file: path (`updates[0].ignore[1]`) and line. */
export type Source = { path: string; line?: number };
export type Sources = { top: Record<string, Source>; rules: (Source | undefined)[] };
export type Conversion = {
  config: RenovateConfig;
  comments: Comments;
  losses: Loss[];
  sources?: Sources;
};

export class Builder {
  readonly top = new Map<string, { value: unknown; comment?: string; source?: Path }>();
  readonly rules: { comment: string; rule: PackageRule; source?: Path }[] = [];
  readonly losses: Loss[] = [];
  /** Security-update groups, in Dependabot's precedence order (see rules/security-groups.ts). */
  readonly securityGroups: { condition: string; name: string; path: Path }[] = [];

  constructor(private readonly locate?: Locate) {}

  /** `source`: the Dependabot key the value came from, for locating a value Renovate rejects. */
  set(key: string, value: unknown, comment?: string, source?: Path): void {
    const old = this.top.get(key);
    this.top.set(key, { value, comment: comment ?? old?.comment, source: source ?? old?.source });
  }

  /** A rule's source defaults to what its comment names (`updates[2] npm /: ignore[1] …`). */
  rule(comment: string, rule: PackageRule, source?: Path): void {
    this.rules.push({ comment, rule, source: source ?? sourceOfComment(comment) });
  }

  loss(path: readonly (string | number)[], kind: LossKind, message: string): void {
    const line = path.length && this.locate ? this.locate(path).line : undefined;
    if (this.losses.some((l) => l.path === formatPath(path) && l.message === message)) return;
    this.losses.push({ path: formatPath(path), line, kind, message });
  }

  /** Top-level keys in a fixed order (deterministic output), then packageRules. */
  build(order: readonly string[]): Conversion {
    const config: RenovateConfig = {};
    const top: Record<string, string> = {};
    const keys = [
      ...order.filter((k) => this.top.has(k)),
      ...[...this.top.keys()].filter((k) => !order.includes(k)).sort(),
    ];
    for (const key of keys) {
      const { value, comment } = this.top.get(key)!;
      config[key] = value;
      if (comment) top[key] = comment;
    }
    if (this.rules.length) config.packageRules = this.rules.map((r) => r.rule);
    const at = (path: Path | undefined): Source | undefined =>
      path && {
        path: formatPath(path),
        line: this.locate && path.length ? this.locate(path).line : undefined,
      };
    const sources: Sources = {
      top: Object.fromEntries(
        keys.flatMap((k) => {
          const s = at(this.top.get(k)!.source);
          return s ? [[k, s]] : [];
        }),
      ),
      rules: this.rules.map((r) => at(r.source)),
    };
    return {
      config,
      comments: { top, rules: this.rules.map((r) => r.comment) },
      losses: this.losses,
      sources,
    };
  }
}

type Path = (string | number)[];

/** `updates[2] npm /: ignore[1] x` → updates[2].ignore[1]; `…: group deps` → updates[2].groups.deps. */
export function sourceOfComment(comment: string): Path | undefined {
  const m = /^updates\[(\d+)\][^:]*: (\S+)(?: (\S+))?/.exec(comment);
  if (!m) return undefined;
  const entry: Path = ['updates', Number(m[1])];
  const [word, next] = [m[2]!, m[3]];
  const indexed = /^([a-z-]+)\[(\d+)\]$/.exec(word);
  if (indexed) return [...entry, indexed[1]!, Number(indexed[2])];
  if (word === 'group' && next) return [...entry, 'groups', next];
  if (word === 'multi-ecosystem-group' && next) return ['multi-ecosystem-groups', next];
  if (/^[a-z-]+$/.test(word)) return [...entry, word];
  return entry;
}
