// The ProxyFleetRollout CRD on a real API server: defaults, the status subresource, and bad specs refused
// with a message naming the field; and its member template kept equal to the ProxyRollout spec schema.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { applyManifests, builtin, type KubeObject, parseManifests, ResourceClient } from '@harbormaster/kube';
import { startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { installOurCrds, readCrds } from '../src/crds.ts';
import { ProxyFleetRollout, proxyFleetRolloutType } from '../src/fleet/api.ts';

type Loose = KubeObject & Record<string, unknown>;
type Schema = { properties?: Record<string, Schema> } & Record<string, unknown>;

const validFleet = (spec: Record<string, unknown> = {}, name = 'edge'): Loose => ({
  metadata: { name, namespace: 'default' },
  spec: {
    selector: { matchLabels: { fleet: 'edge' } },
    waves: [{ gateways: ['gw-000'] }, { percent: 25, gate: { approval: {} } }, { rest: true }],
    template: { strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } } },
    ...spec,
  },
});

const specSchema = async (plural: string): Promise<Schema> => {
  const crd = (await readCrds()).find((c) => c.spec.names.plural === plural) as unknown as
    | { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } }
    | undefined;
  const schema = crd?.spec.versions[0]?.schema.openAPIV3Schema;
  return schema?.properties?.spec as Schema;
};

describe('the ProxyFleetRollout CRD', () => {
  it('its member template is the ProxyRollout spec without targetRef, autoStart and approvedRevision', async () => {
    const rollout = await specSchema('proxyrollouts');
    const template = (await specSchema('proxyfleetrollouts')).properties?.template as Schema;
    const { targetRef: _, autoStart: __, approvedRevision: ___, ...rest } = rollout.properties ?? {};
    assert.deepEqual(template.properties, rest);
    assert.deepEqual(template.required, ['strategy']);
  });

  it("a wave's strategy is the ProxyRollout strategy schema", async () => {
    const rollout = await specSchema('proxyrollouts');
    const waves = (await specSchema('proxyfleetrollouts')).properties?.waves as Schema & { items: Schema };
    assert.deepEqual(waves.items.properties?.strategy, rollout.properties?.strategy);
  });

  describe('on a real API server', () => {
    let cluster: TestCluster;
    let fleets: ResourceClient<Loose>;

    before(async () => {
      cluster = await startTestCluster({ nodes: 1 });
      await installOurCrds(cluster.rest);
      fleets = new ResourceClient(cluster.rest, proxyFleetRolloutType);
    });
    after(() => cluster?.stop());

    async function refusal(object: Loose): Promise<string> {
      try {
        await fleets.create(object);
      } catch (error) {
        assert.match(String(error), /422/);
        return String(error);
      }
      assert.fail(`${object.metadata.name} was accepted`);
    }

    it('accepts a valid fleet, fills in the defaults, parses as our type, and has a status subresource', async () => {
      const created = await fleets.create(validFleet());
      const parsed = ProxyFleetRollout.parse(created);
      assert.equal(parsed.spec.maxConcurrent, 5);
      assert.equal(parsed.spec.detectionWindowSeconds, 15);
      assert.equal(parsed.spec.template.hold, true);
      assert.equal(parsed.spec.template.progressDeadlineSeconds, 600);
      const gated = await fleets.create(
        validFleet(
          {
            waves: [
              { gateways: ['gw-000'], strategy: { canary: { steps: [{ setReplicas: { count: 2 } }] } } },
              { rest: true, gate: { analysis: { templateRef: { name: 'upgraded-health' } } } },
            ],
          },
          'gated',
        ),
      );
      const gatedSpec = ProxyFleetRollout.parse(gated).spec;
      const withCanary = await fleets.create(
        validFleet(
          {
            controlPlaneCanary: {
              controllerName: 'example.com/eg-next',
              gatewayClassName: 'eg-next',
              count: 1,
              soak: '2m',
            },
          },
          'preflight',
        ),
      );
      const canary = ProxyFleetRollout.parse(withCanary).spec.controlPlaneCanary;
      assert.equal(canary?.failureLimit, 0);
      assert.equal(canary?.programmedDeadlineSeconds, 300);
      assert.deepEqual(gatedSpec.waves[1]?.gate, {
        analysis: { templateRef: { name: 'upgraded-health', kind: 'ProxyAnalysisTemplate' } },
      });
      assert.deepEqual(gatedSpec.waves[0]?.strategy?.canary?.steps, [{ setReplicas: { count: 2 } }]);
      const withStatus = await fleets.patch(
        'edge',
        'default',
        'merge',
        { status: { phase: 'Idle' } },
        'status',
      );
      assert.equal((withStatus as { status?: { phase?: string } }).status?.phase, 'Idle');
      const ignored = await fleets.patch('edge', 'default', 'merge', { status: { phase: 'Halted' } });
      assert.equal(
        (ignored as { status?: { phase?: string } }).status?.phase,
        'Idle',
        'status only through the subresource',
      );
    });

    it('examples/fleet-gates.yaml applies as it is and parses as our type', async () => {
      const file = new URL('../examples/fleet-gates.yaml', import.meta.url).pathname;
      await new ResourceClient(cluster.rest, builtin.namespace).create({ metadata: { name: 'shop' } });
      await applyManifests(cluster.rest, parseManifests(readFileSync(file, 'utf8'), file), {
        fieldManager: 'kubectl',
      });
      const fleet = ProxyFleetRollout.parse(await fleets.get('shop-edge', 'shop'));
      assert.deepEqual(
        fleet.spec.waves.map((w) => (w.gate ? Object.keys(w.gate)[0] : '-')),
        ['-', 'analysis', 'approval'],
      );
      assert.equal(fleet.spec.waves[0]?.strategy?.canary?.steps.length, 3);
      assert.equal(fleet.spec.controlPlaneCanary?.soak, '10m');
    });

    it('refuses bad specs, naming the field and why', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ selector: undefined }, /a fleet selects its Gateways by selector, gatewayClassName or both/],
        [{ waves: [{ percent: 10, rest: true }] }, /a wave has exactly one of gateways, percent or rest/],
        [{ waves: [{ percent: 120 }] }, /spec\.waves\[0\]\.percent.*100/],
        [{ waves: [] }, /spec\.waves.*at least 1/],
        [
          { waves: [{ rest: true, gate: { approval: {}, pause: { duration: '1m' } } }] },
          /a gate is exactly one of approval, pause or analysis/,
        ],
        [
          { waves: [{ rest: true, gate: { pause: { duration: 'soon' } } }] },
          /spec\.waves\[0\]\.gate\.pause\.duration/,
        ],
        [
          { waves: [{ rest: true, gate: { analysis: { templateRef: {} } } }] },
          /spec\.waves\[0\]\.gate\.analysis\.templateRef\.name: Required value/,
        ],
        [
          {
            waves: [
              { rest: true, strategy: { canary: { steps: [{ setReplicas: { count: 1 }, pause: {} }] } } },
            ],
          },
          /each step needs exactly one of setReplicas, pause or analysis/,
        ],
        [
          { waves: [{ rest: true, strategy: { canary: { steps: [] } } }] },
          /spec\.waves\[0\]\.strategy\.canary\.steps.*at least 1/,
        ],
        [
          {
            controlPlaneCanary: {
              controllerName: 'x/y',
              gatewayClassName: 'c',
              soak: '1m',
              count: 1,
              gateways: ['a'],
            },
          },
          /a control-plane canary takes exactly one of gateways or count/,
        ],
        [
          { controlPlaneCanary: { controllerName: 'x/y', gatewayClassName: 'c', soak: 'a while', count: 1 } },
          /spec\.controlPlaneCanary\.soak/,
        ],
        [{ maxConcurrent: 0 }, /spec\.maxConcurrent.*greater than or equal to 1/],
        [
          { selector: { matchExpressions: [{ key: 'tier', operator: 'In' }] } },
          /In and NotIn need values; Exists and DoesNotExist take none/,
        ],
        [
          { template: { strategy: { canary: { steps: [{ setReplicas: { count: 1 }, pause: {} }] } } } },
          /each step needs exactly one of setReplicas, pause or analysis/,
        ],
      ];
      let i = 0;
      for (const [spec, message] of cases) {
        const text = await refusal(validFleet(spec, `bad-${i++}`));
        assert.match(text, message);
      }
    });
  });
});
