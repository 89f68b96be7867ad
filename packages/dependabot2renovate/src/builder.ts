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
  | 'ignored';
export type Loss = { path: string; line?: number; kind: LossKind; message: string };
export type PackageRule = Record<string, unknown>;
export type RenovateConfig = Record<string, unknown> & { packageRules?: PackageRule[] };
export type Comments = { top: Record<string, string>; rules: string[] };
export type Conversion = { config: RenovateConfig; comments: Comments; losses: Loss[] };

export class Builder {
  readonly top = new Map<string, { value: unknown; comment?: string }>();
  readonly rules: { comment: string; rule: PackageRule }[] = [];
  readonly losses: Loss[] = [];
  /** Security-update groups, in Dependabot's precedence order (see rules/security-groups.ts). */
  readonly securityGroups: { condition: string; name: string }[] = [];

  constructor(private readonly locate?: Locate) {}

  set(key: string, value: unknown, comment?: string): void {
    this.top.set(key, { value, comment: comment ?? this.top.get(key)?.comment });
  }

  rule(comment: string, rule: PackageRule): void {
    this.rules.push({ comment, rule });
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
    return { config, comments: { top, rules: this.rules.map((r) => r.comment) }, losses: this.losses };
  }
}
