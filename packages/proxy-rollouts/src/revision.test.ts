import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canaryName, revisionOf, templateHash } from './revision.ts';

const template = (image: string, extra: Record<string, string> = {}) => ({
  metadata: { labels: { 'app.kubernetes.io/name': 'envoy', ...extra } },
  spec: {
    containers: [
      { name: 'envoy', image },
      { name: 'shutdown-manager', image: 'docker.io/envoyproxy/gateway:v1.8.0' },
    ],
  },
});

describe('revision', () => {
  it('ignores pod-template-hash and key order, as the Deployment controller does', () => {
    const deployment = template('envoy:v1.38.0');
    const replicaSet = template('envoy:v1.38.0', { 'pod-template-hash': '5d4b8c' });
    assert.equal(templateHash(deployment), templateHash(replicaSet));
    const reordered = { spec: deployment.spec, metadata: deployment.metadata };
    assert.equal(templateHash(reordered), templateHash(deployment));
  });

  it('changes with the image and any other label, and reports the images', () => {
    assert.notEqual(templateHash(template('envoy:v1.38.0')), templateHash(template('envoy:v1.39.1')));
    assert.notEqual(
      templateHash(template('envoy:v1.38.0')),
      templateHash(template('envoy:v1.38.0', { a: 'b' })),
    );
    assert.deepEqual(revisionOf(template('envoy:v1.39.1')), {
      hash: templateHash(template('envoy:v1.39.1')),
      envoyImage: 'envoy:v1.39.1',
      shutdownManagerImage: 'docker.io/envoyproxy/gateway:v1.8.0',
    });
  });

  it('names canaries within the ReplicaSet name budget', () => {
    assert.equal(canaryName('envoy-default-eg-37a8eec1', 'abcdef1234'), 'envoy-default-eg-37a8eec1-c-abcde');
    assert.equal(canaryName('x'.repeat(70), 'abcdef1234').length, 58);
  });
});
