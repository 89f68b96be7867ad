// Zod schema of every Dependabot v2 key (github/docs options reference, Aug 2026; SchemaStore lags behind
// it). Objects are strict so that a typo is reported instead of silently ignored.
import { z } from 'zod';

export const ecosystems = [
  'bazel',
  'bun',
  'bundler',
  'cargo',
  'composer',
  'conda',
  'deno',
  'devcontainers',
  'docker',
  'docker-compose',
  'dotnet-sdk',
  'elm',
  'github-actions',
  'gitsubmodule',
  'gomod',
  'gradle',
  'helm',
  'julia',
  'maven',
  'mix',
  'nix',
  'npm',
  'nuget',
  'opentofu',
  'pip',
  'pre-commit',
  'pub',
  'rust-toolchain',
  'sbt',
  'swift',
  'terraform',
  'uv',
  'vcpkg',
] as const;
export const Ecosystem = z.enum(ecosystems);
export type Ecosystem = z.infer<typeof Ecosystem>;

export const registryTypes = [
  'cargo-registry',
  'composer-repository',
  'docker-registry',
  'git',
  'hex-organization',
  'hex-repository',
  'maven-repository',
  'npm-registry',
  'nuget-feed',
  'pub-repository',
  'python-index',
  'rubygems-server',
  'terraform-registry',
] as const;

const str = z.string();
const strList = z.array(z.string());

export const Registry = z.strictObject({
  type: z.enum(registryTypes),
  url: str.optional(),
  username: str.optional(),
  password: str.optional(),
  key: str.optional(),
  token: str.optional(),
  'replaces-base': z.boolean().optional(),
  organization: str.optional(),
  repo: str.optional(),
  'auth-key': str.optional(),
  'public-key-fingerprint': str.optional(),
  // OIDC authentication (Azure, AWS CodeArtifact, JFrog)
  'tenant-id': str.optional(),
  'client-id': str.optional(),
  'jfrog-oidc-provider-name': str.optional(),
  'identity-mapping-name': str.optional(),
  audience: str.optional(),
  'aws-region': str.optional(),
  'account-id': str.optional(),
  'role-name': str.optional(),
  domain: str.optional(),
  'domain-owner': str.optional(),
});
export type Registry = z.infer<typeof Registry>;

export const weekdays = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
export const intervals = [
  'daily',
  'weekly',
  'monthly',
  'quarterly',
  'semiannually',
  'yearly',
  'cron',
] as const;

export const Schedule = z.strictObject({
  interval: z.enum(intervals),
  day: z.enum(weekdays).optional(),
  time: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time as hh:mm')
    .optional(),
  timezone: str.optional(),
  cronjob: str.optional(),
});
export type Schedule = z.infer<typeof Schedule>;

export const CommitMessage = z.strictObject({
  prefix: z.string().max(50).optional(),
  'prefix-development': z.string().max(50).optional(),
  include: z.literal('scope').optional(),
});
export type CommitMessage = z.infer<typeof CommitMessage>;

export const BranchName = z.strictObject({ separator: z.enum(['-', '_', '/']) });

export const ignoreUpdateTypes = [
  'version-update:semver-major',
  'version-update:semver-minor',
  'version-update:semver-patch',
] as const;

export const Allow = z.strictObject({
  'dependency-name': str.optional(),
  'dependency-type': z.enum(['direct', 'indirect', 'all', 'production', 'development']).optional(),
  // Undocumented, but present in real configs (fastify): tolerated and reported.
  'update-types': z.array(z.enum(ignoreUpdateTypes)).optional(),
});
export type Allow = z.infer<typeof Allow>;

export const Ignore = z.strictObject({
  'dependency-name': str,
  versions: z.union([str, strList]).optional(),
  'update-types': z.array(z.enum(ignoreUpdateTypes)).optional(),
});
export type Ignore = z.infer<typeof Ignore>;

export const Group = z.strictObject({
  patterns: strList.optional(),
  'exclude-patterns': strList.optional(),
  'dependency-type': z.enum(['development', 'production']).optional(),
  'update-types': z.array(z.enum(['major', 'minor', 'patch'])).optional(),
  'applies-to': z.enum(['version-updates', 'security-updates']).optional(),
  'group-by': z.literal('dependency-name').optional(),
});
export type Group = z.infer<typeof Group>;

export const Cooldown = z.strictObject({
  'default-days': z.number().int().min(0).max(90).optional(),
  'semver-major-days': z.number().int().min(0).max(90).optional(),
  'semver-minor-days': z.number().int().min(0).max(90).optional(),
  'semver-patch-days': z.number().int().min(0).max(90).optional(),
  include: strList.max(150).optional(),
  exclude: strList.max(150).optional(),
});
export type Cooldown = z.infer<typeof Cooldown>;

export const UpdateEntryFields = z.strictObject({
  'package-ecosystem': Ecosystem,
  directory: str.optional(),
  directories: strList.min(1).optional(),
  schedule: Schedule.optional(),
  allow: z.array(Allow).optional(),
  ignore: z.array(Ignore).optional(),
  // Group names are free text (cloudydeno/aws-api names one `@std`); the converter slugs them for branches.
  groups: z.record(z.string().min(1, 'a group needs a name'), Group).optional(),
  labels: strList.optional(),
  assignees: strList.optional(),
  reviewers: strList.optional(),
  milestone: z.number().int().positive().optional(),
  'commit-message': CommitMessage.optional(),
  'pull-request-branch-name': BranchName.optional(),
  'rebase-strategy': z.enum(['auto', 'disabled']).optional(),
  'open-pull-requests-limit': z.number().int().min(0).optional(),
  'target-branch': str.optional(),
  vendor: z.boolean().optional(),
  'versioning-strategy': z
    .enum(['auto', 'increase', 'increase-if-necessary', 'lockfile-only', 'widen'])
    .optional(),
  'insecure-external-code-execution': z.enum(['allow', 'deny']).optional(),
  cooldown: Cooldown.optional(),
  'exclude-paths': strList.optional(),
  registries: z.union([z.literal('*'), strList]).optional(),
  'multi-ecosystem-group': str.optional(),
  patterns: strList.optional(),
  'enable-beta-ecosystems': z.boolean().optional(),
});

export const UpdateEntry = UpdateEntryFields.superRefine((entry, ctx) => {
  if ((entry.directory === undefined) === (entry.directories === undefined))
    ctx.addIssue({
      code: 'custom',
      message: 'set exactly one of `directory` and `directories`',
      path: [],
      params: { missing: entry.directory === undefined },
    });
  if (entry.schedule === undefined && entry['multi-ecosystem-group'] === undefined)
    ctx.addIssue({
      code: 'custom',
      message: '`schedule` is required (unless the entry joins a multi-ecosystem-group)',
      path: [],
      params: { missing: true },
    });
  if (entry['multi-ecosystem-group'] !== undefined && !entry.patterns?.length)
    ctx.addIssue({
      code: 'custom',
      message: '`patterns` is required with `multi-ecosystem-group`',
      path: [],
      params: { missing: true },
    });
});
export type UpdateEntry = z.infer<typeof UpdateEntry>;

export const MultiEcosystemGroup = z.strictObject({
  schedule: Schedule,
  // Not in the options reference, but in real files (and honoured by Dependabot): the group's PR limit.
  'open-pull-requests-limit': z.number().int().min(0).optional(),
  labels: strList.optional(),
  assignees: strList.optional(),
  milestone: z.number().int().positive().optional(),
  'target-branch': str.optional(),
  'commit-message': CommitMessage.optional(),
  'pull-request-branch-name': BranchName.optional(),
});
export type MultiEcosystemGroup = z.infer<typeof MultiEcosystemGroup>;

export const DependabotConfigFields = z.strictObject({
  version: z.union([z.number(), z.string()]),
  registries: z.record(z.string(), Registry).optional(),
  updates: z.array(UpdateEntry).min(1),
  'multi-ecosystem-groups': z.record(z.string(), MultiEcosystemGroup).optional(),
  'enable-beta-ecosystems': z.boolean().optional(),
});

// Names an entry uses must be defined at the top level, as Dependabot checks.
export const DependabotConfig = DependabotConfigFields.superRefine((cfg, ctx) => {
  const registries = Object.keys(cfg.registries ?? {});
  const groups = Object.keys(cfg['multi-ecosystem-groups'] ?? {});
  cfg.updates.forEach((u, i) => {
    if (Array.isArray(u.registries))
      u.registries.forEach((name, j) => {
        if (!registries.includes(name))
          ctx.addIssue({
            code: 'custom',
            path: ['updates', i, 'registries', j],
            message: `registry \`${name}\` is not defined under the top-level registries`,
            params: { undefinedName: name, candidates: registries },
          });
      });
    const g = u['multi-ecosystem-group'];
    if (g !== undefined && !groups.includes(g))
      ctx.addIssue({
        code: 'custom',
        path: ['updates', i, 'multi-ecosystem-group'],
        message: `multi-ecosystem group \`${g}\` is not defined under multi-ecosystem-groups`,
        params: { undefinedName: g, candidates: groups },
      });
  });
});
export type DependabotConfig = z.infer<typeof DependabotConfig>;

/** Keys allowed under each mapping key, for "did you mean" on unknown keys. */
export const keysUnder: Record<string, string[]> = {
  '': Object.keys(DependabotConfigFields.shape),
  updates: Object.keys(UpdateEntryFields.shape),
  schedule: Object.keys(Schedule.shape),
  'commit-message': Object.keys(CommitMessage.shape),
  cooldown: Object.keys(Cooldown.shape),
  allow: Object.keys(Allow.shape),
  ignore: Object.keys(Ignore.shape),
  groups: Object.keys(Group.shape),
  'pull-request-branch-name': Object.keys(BranchName.shape),
  registries: Object.keys(Registry.shape),
  'multi-ecosystem-groups': Object.keys(MultiEcosystemGroup.shape),
};
