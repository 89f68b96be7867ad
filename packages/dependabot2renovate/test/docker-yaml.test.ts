// A docker entry keeps what Dependabot's docker ecosystem reads besides Dockerfiles: the `image:` fields of
// Kubernetes manifests and Helm-style values in the entry's directory, and nothing more (Renovate's kubernetes
// manager would also propose apiVersion updates). Judged by Renovate's own rule evaluation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convert } from '../src/convert.ts';
import { findRenovate, renovateMissing } from '../src/renovate-runtime.ts';
import { evaluate, type SampleDep } from '../src/semantics.ts';

const yaml = `version: 2
updates:
  - package-ecosystem: docker
    directory: /deploy
    schedule: { interval: weekly }
    ignore:
      - dependency-name: nginx
        versions: [">= 1.27"]
`;

const dep = (manager: string, depName: string, datasource: string, packageFile: string): SampleDep => ({
  manager,
  depName,
  datasource,
  packageFile,
  updateType: 'minor',
  baseBranch: 'main',
});

describe('docker directories: Kubernetes manifests and Helm values', () => {
  it('images are updated like Dockerfile images, Kubernetes API versions are not (Renovate rule evaluation)', () => {
    const rt = findRenovate();
    assert.ok(rt, renovateMissing);
    const r = convert(yaml);
    assert.ok(r.ok);
    const cases = [
      dep('dockerfile', 'nginx', 'docker', 'deploy/Dockerfile'),
      dep('kubernetes', 'nginx', 'docker', 'deploy/deployment.yaml'),
      dep('helm-values', 'envoyproxy/envoy', 'docker', 'deploy/values.yaml'),
      dep('kubernetes', 'HorizontalPodAutoscaler', 'kubernetes-api', 'deploy/hpa.yaml'),
    ];
    const out = evaluate(rt, [{ name: 'ours', config: r.config, cases }]).ours!;
    assert.deepEqual(
      out.map((o, i) => [cases[i]!.manager, cases[i]!.depName, o.enabled]),
      [
        ['dockerfile', 'nginx', true],
        ['kubernetes', 'nginx', true],
        ['helm-values', 'envoyproxy/envoy', true],
        ['kubernetes', 'HorizontalPodAutoscaler', false],
      ],
    );
    // The ignore rule covers the image wherever the directory names it.
    const ignore = r.config.packageRules?.find((p) => p.allowedVersions !== undefined);
    assert.deepEqual(ignore?.matchManagers, ['dockerfile', 'kubernetes', 'helm-values']);
  });
});
