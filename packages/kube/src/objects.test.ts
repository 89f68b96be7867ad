import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { objectKey, splitKey } from './objects.ts';

describe('object keys', () => {
  it('round-trips namespaced and cluster-scoped names (property)', () => {
    const dnsName = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
    fc.assert(
      fc.property(fc.option(dnsName, { nil: undefined }), dnsName, (namespace, name) => {
        const key = objectKey({ metadata: { namespace, name } });
        assert.deepEqual(splitKey(key), namespace ? { namespace, name } : { name });
      }),
    );
  });
});
