import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createPair, namespacesUnavailable, type Pair } from '../../test/support/netns.ts';
import { candidateNamespaces, findPodNetwork } from './netns.ts';

describe('finding the namespace that holds an address', { skip: namespacesUnavailable() }, () => {
  let pair: Pair;
  before(() => {
    pair = createPair();
  });
  after(() => pair?.remove());

  test('a pinned namespace and its interface, for either family and any spelling of an IPv6 address', async () => {
    assert.deepEqual(await findPodNetwork(pair.v4.b), { netns: `/run/netns/${pair.b}`, interface: 'vb' });
    assert.deepEqual(await findPodNetwork(pair.v6.a.replace('::', ':0:0::')), {
      netns: `/run/netns/${pair.a}`,
      interface: 'va',
    });
    assert.equal(await findPodNetwork('192.0.2.254'), undefined);
  });

  test("a process's namespace when nothing is pinned (a runtime that keeps none under /run/netns)", async () => {
    const holder = spawn('ip', ['netns', 'exec', pair.b, 'sleep', '30'], { stdio: 'ignore' });
    try {
      // The pinned directory left out: only /proc/PID/ns/net can lead there.
      const found = await (async () => {
        for (let i = 0; i < 50; i++) {
          const r = await findPodNetwork(pair.v4.b, '/nonexistent');
          if (r) return r;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return undefined;
      })();
      assert.match(found?.netns ?? '', /^\/proc\/\d+\/ns\/net$/);
      assert.equal(found?.interface, 'vb');
      const own = statSync('/proc/self/ns/net').ino;
      assert.ok(
        (await candidateNamespaces('/nonexistent')).every((path) => {
          try {
            return statSync(path).ino !== own;
          } catch {
            return true; // its process ended meanwhile
          }
        }),
        "never the agent's own namespace",
      );
    } finally {
      holder.kill();
    }
  });
});
