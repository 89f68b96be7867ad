// Dependabot package-ecosystem → Renovate manager(s). The registry is an explicit map, and a test walks every
// entry (every ecosystem either maps to managers Renovate 44 has, or says why it cannot be served).
import type { Ecosystem } from './schema.ts';

export type EcosystemMapping = {
  /** Renovate managers that read the same manifests. Empty when Renovate cannot serve the ecosystem. */
  managers: string[];
  /** Dependabot's default ecosystem label (added next to `dependencies` when >1 ecosystem is configured). */
  label: string;
  /** Manifest file globs relative to an entry directory (what Dependabot reads there). */
  manifests: string[];
  /** Dependabot follows workspaces/modules below the directory (npm, cargo, gradle, maven, …). */
  recursive?: boolean;
  /** Managers that are disabled by default in Renovate and need `{enabled: true}`. */
  enable?: string[];
  /**
   * Managers that find no files (or too few) by default: each gets `managerFilePatterns` with these manifest
   * globs in the entry's directories.
   */
  filePatterns?: Record<string, string[]>;
  /** Renovate depTypes for Dependabot's `development` / `production` dependency types. */
  devDepTypes?: string[];
  prodDepTypes?: string[];
  /** Renovate datasource, for registries `replaces-base`. */
  datasource?: string;
  /** Why Renovate cannot serve it (unsupported ecosystems only). */
  unsupported?: string;
  /** What Dependabot did for this ecosystem that the mapping does not keep. */
  note?: string;
};

const pipManifests = [
  '*requirements*.txt',
  '*requirements*.in',
  'requirements/*.txt',
  'setup.py',
  'setup.cfg',
  'Pipfile',
  'pyproject.toml',
];

export const ecosystemMap: Record<Ecosystem, EcosystemMapping> = {
  bazel: {
    managers: ['bazel-module', 'bazel', 'bazelisk'],
    label: 'bazel',
    manifests: ['MODULE.bazel', 'WORKSPACE', 'WORKSPACE.bazel', '*.bzl', '.bazelversion'],
  },
  bun: {
    managers: ['bun', 'npm'],
    label: 'javascript',
    manifests: ['package.json', 'bun.lock', 'bun.lockb'],
    recursive: true,
    devDepTypes: ['devDependencies'],
    prodDepTypes: ['dependencies'],
    datasource: 'npm',
  },
  bundler: {
    managers: ['bundler'],
    label: 'ruby',
    manifests: ['Gemfile', 'gems.rb'],
    devDepTypes: ['development', 'test'],
    prodDepTypes: ['dependencies'],
    datasource: 'rubygems',
  },
  cargo: {
    managers: ['cargo'],
    label: 'rust',
    manifests: ['Cargo.toml'],
    recursive: true,
    devDepTypes: ['dev-dependencies', 'build-dependencies'],
    prodDepTypes: ['dependencies'],
    datasource: 'crate',
  },
  composer: {
    managers: ['composer'],
    label: 'php',
    manifests: ['composer.json'],
    devDepTypes: ['require-dev'],
    prodDepTypes: ['require'],
    datasource: 'packagist',
  },
  conda: {
    managers: [],
    label: 'conda',
    manifests: ['environment.yml', 'environment.yaml'],
    unsupported: 'Renovate has no conda manager (only pixi for pixi.toml)',
  },
  deno: { managers: ['deno'], label: 'deno', manifests: ['deno.json', 'deno.jsonc', 'package.json'] },
  devcontainers: {
    managers: ['devcontainer'],
    label: 'devcontainers',
    manifests: ['.devcontainer.json', '.devcontainer/devcontainer.json', '.devcontainer/*/devcontainer.json'],
  },
  // Dependabot's docker ecosystem also reads the directory's YAML files (not dotfiles): `image:` fields of
  // Kubernetes manifests and Helm-style `image: {repository, tag}` values. Renovate's kubernetes manager has no
  // default file patterns and helm-values only matches values.yaml, so both get the directory's YAML files.
  docker: {
    managers: ['dockerfile', 'kubernetes', 'helm-values'],
    label: 'docker',
    manifests: [
      '*Dockerfile*',
      '*dockerfile*',
      '*Containerfile*',
      '*containerfile*',
      '[!.]*.yaml',
      '[!.]*.yml',
    ],
    filePatterns: { kubernetes: ['[!.]*.yaml', '[!.]*.yml'], 'helm-values': ['[!.]*.yaml', '[!.]*.yml'] },
    datasource: 'docker',
    note: "Dependabot also updated image references in the directory's .env files (Kustomize); Renovate has no manager for them, so those are not converted",
  },
  'docker-compose': {
    managers: ['docker-compose'],
    label: 'docker_compose',
    manifests: ['*compose*.yml', '*compose*.yaml'],
    datasource: 'docker',
  },
  'dotnet-sdk': { managers: ['nuget'], label: 'dotnet_sdk', manifests: ['global.json'] },
  elm: { managers: [], label: 'elm', manifests: ['elm.json'], unsupported: 'Renovate has no elm manager' },
  'github-actions': {
    managers: ['github-actions'],
    label: 'github_actions',
    manifests: ['action.yml', 'action.yaml'],
  },
  gitsubmodule: {
    managers: ['git-submodules'],
    label: 'submodules',
    manifests: ['.gitmodules'],
    enable: ['git-submodules'],
  },
  gomod: { managers: ['gomod'], label: 'go', manifests: ['go.mod'], datasource: 'go' },
  gradle: {
    managers: ['gradle', 'gradle-wrapper'],
    label: 'java',
    manifests: [
      '*.gradle',
      '*.gradle.kts',
      '*.versions.toml',
      'gradle.properties',
      'gradle-wrapper.properties',
    ],
    recursive: true,
    datasource: 'maven',
  },
  helm: {
    managers: ['helmv3'],
    label: 'helm',
    manifests: ['Chart.yaml', 'requirements.yaml'],
    datasource: 'helm',
  },
  julia: {
    managers: [],
    label: 'julia',
    manifests: ['Project.toml'],
    unsupported: 'Renovate has no Julia manager',
  },
  maven: {
    managers: ['maven', 'maven-wrapper'],
    label: 'java',
    manifests: ['pom.xml', 'maven-wrapper.properties'],
    recursive: true,
    devDepTypes: ['test'],
    prodDepTypes: ['compile', 'runtime'],
    datasource: 'maven',
  },
  mix: { managers: ['mix'], label: 'elixir', manifests: ['mix.exs'], recursive: true, datasource: 'hex' },
  nix: { managers: ['nix'], label: 'nix', manifests: ['flake.nix'], enable: ['nix'] },
  npm: {
    managers: ['npm'],
    label: 'javascript',
    manifests: ['package.json'],
    recursive: true,
    devDepTypes: ['devDependencies'],
    prodDepTypes: ['dependencies', 'optionalDependencies', 'peerDependencies'],
    datasource: 'npm',
  },
  nuget: {
    managers: ['nuget'],
    label: '.NET',
    manifests: [
      '*.csproj',
      '*.fsproj',
      '*.vbproj',
      '*.props',
      '*.targets',
      'packages.config',
      'global.json',
      'dotnet-tools.json',
    ],
    recursive: true,
    datasource: 'nuget',
  },
  opentofu: { managers: ['terraform'], label: 'opentofu', manifests: ['*.tf', '*.tofu'] },
  pip: {
    managers: ['pip_requirements', 'pip_setup', 'pipenv', 'poetry', 'pep621', 'setup-cfg'],
    label: 'python',
    manifests: pipManifests,
    devDepTypes: ['dev-dependencies', 'develop'],
    prodDepTypes: ['dependencies', 'packages', 'project.dependencies'],
    datasource: 'pypi',
  },
  'pre-commit': {
    managers: ['pre-commit'],
    label: 'pre_commit',
    manifests: ['.pre-commit-config.yaml', '.pre-commit-config.yml'],
    enable: ['pre-commit'],
  },
  pub: {
    managers: ['pub'],
    label: 'dart',
    manifests: ['pubspec.yaml'],
    devDepTypes: ['dev_dependencies'],
    prodDepTypes: ['dependencies'],
    datasource: 'dart',
  },
  'rust-toolchain': {
    managers: ['rust-toolchain'],
    label: 'rust_toolchain',
    manifests: ['rust-toolchain.toml', 'rust-toolchain'],
  },
  sbt: {
    managers: ['sbt'],
    label: 'sbt',
    manifests: ['*.sbt', 'project/*.scala', 'project/build.properties'],
    datasource: 'maven',
  },
  swift: { managers: ['swift'], label: 'swift', manifests: ['Package.swift'] },
  terraform: { managers: ['terraform'], label: 'terraform', manifests: ['*.tf', '*.hcl'] },
  uv: {
    managers: ['pep621'],
    label: 'python:uv',
    manifests: ['pyproject.toml'],
    recursive: true,
    devDepTypes: ['dependency-groups', 'tool.uv.dev-dependencies'],
    prodDepTypes: ['project.dependencies'],
    datasource: 'pypi',
  },
  vcpkg: {
    managers: [],
    label: 'vcpkg',
    manifests: ['vcpkg.json'],
    unsupported: 'Renovate has no vcpkg manager',
  },
};

/** Renovate hostType for each Dependabot registry type (Renovate datasource or platform names). */
export const registryHostTypes: Record<string, string | undefined> = {
  'cargo-registry': 'crate',
  'composer-repository': 'packagist',
  'docker-registry': 'docker',
  git: undefined,
  'hex-organization': 'hex',
  'hex-repository': 'hex',
  'maven-repository': 'maven',
  'npm-registry': 'npm',
  'nuget-feed': 'nuget',
  'pub-repository': 'dart',
  'python-index': 'pypi',
  'rubygems-server': 'rubygems',
  'terraform-registry': 'terraform-module',
};
