// applyManifests against a real API server: discovery of built-in and just-installed kinds, namespaces,
// server-side dry run, and errors that name the document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { applyManifests, builtin, isNotFound, parseManifests, ResourceClient } from '../src/index.ts';

const crdThenWidget = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.dev}
spec:
  group: example.dev
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer, maximum: 10}}}
---
apiVersion: example.dev/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: elsewhere}
data: {a: "1"}
`;

describe('applyManifests on a real API server', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster();
    await new ResourceClient(cluster.rest, builtin.namespace).create({ metadata: { name: 'elsewhere' } });
    await new ResourceClient(cluster.rest, builtin.namespace).create({ metadata: { name: 'target' } });
  });
  after(() => cluster?.stop());

  it('installs a CRD, then an object of its kind, in the default namespace given; explicit namespaces stay', async () => {
    const applied = await applyManifests(cluster.rest, parseManifests(crdThenWidget, 'app.yaml'), {
      fieldManager: 'test',
      namespace: 'target',
    });
    assert.deepEqual(
      applied.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`),
      ['CustomResourceDefinition//widgets.example.dev', 'Widget/target/w1', 'ConfigMap/elsewhere/settings'],
    );
    const widget = await cluster.rest.request<{ spec: { size: number } }>(
      'GET',
      '/apis/example.dev/v1/namespaces/target/widgets/w1',
    );
    assert.equal(widget.spec.size, 3);
  });

  it('a dry run validates against the schema and stores nothing', async () => {
    const manifests = parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\ndata: {a: "1"}\n',
      'dry.yaml',
    );
    await applyManifests(cluster.rest, manifests, { fieldManager: 'test', dryRun: true });
    await assert.rejects(
      new ResourceClient(cluster.rest, builtin.configMap).get('dry', 'default'),
      isNotFound,
    );
    const tooBig = parseManifests(
      'apiVersion: example.dev/v1\nkind: Widget\nmetadata: {name: big}\nspec: {size: 11}\n',
      'big.yaml',
    );
    await assert.rejects(
      applyManifests(cluster.rest, tooBig, { fieldManager: 'test', dryRun: true }),
      /^Error: big\.yaml:1: Widget big: .*spec\.size/,
    );
  });

  it('a kind the server does not serve is an error naming the document', async () => {
    const manifests = parseManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: nowhere.dev/v1\nkind: Gadget\nmetadata: {name: g}\n',
      'mixed.yaml',
    );
    await assert.rejects(applyManifests(cluster.rest, manifests, { fieldManager: 'test' }), {
      message: 'mixed.yaml:5: the API server does not serve Gadget in nowhere.dev/v1',
    });
  });
});
