import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifests } from './manifests.ts';

test('documents become objects with their file and line; empty documents are skipped', () => {
  const text = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata: {name: a}',
    '---',
    '# only a comment',
    '---',
    'apiVersion: v1',
    'kind: Secret',
    'metadata: {name: b}',
  ].join('\n');
  const manifests = parseManifests(text, 'm.yaml');
  assert.deepEqual(
    manifests.map((m) => [m.object.kind, m.source]),
    [
      ['ConfigMap', 'm.yaml:1'],
      ['Secret', 'm.yaml:7'],
    ],
  );
});

test('a document that is not a Kubernetes object, or has no name, is an error naming file and line', () => {
  assert.throws(
    () => parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nfoo: bar\n', 'x.yaml'),
    {
      message: 'x.yaml:5: expected a Kubernetes object with apiVersion and kind',
    },
  );
  assert.throws(() => parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n', 'y.yaml'), {
    message: 'y.yaml:1: ConfigMap has no metadata.name',
  });
  assert.throws(() => parseManifests('a: [1,\n', 'z.yaml'), /^Error: z\.yaml:1: /);
});
