// What every rules/<dependabot-key>.ts module receives for one update entry.
import type { Builder, PackageRule } from '../builder.ts';
import type { EcosystemMapping } from '../ecosystems.ts';
import type { DependabotConfig, UpdateEntry } from '../schema.ts';

export type EntryContext = {
  config: DependabotConfig;
  entry: UpdateEntry;
  index: number;
  mapping: EcosystemMapping;
  /** Matchers that confine a rule to this entry: managers, files (when needed) and base branch. */
  scope: PackageRule;
  /** Short human name used in comments: `updates[0] gomod /`. */
  name: string;
  builder: Builder;
};

export const entryPath = (ctx: EntryContext, ...rest: (string | number)[]) => ['updates', ctx.index, ...rest];
