// The CRDs on a real API server: what they accept, what they default, and that bad specs are refused with a
// message naming the field and why (OpenAPI and CEL validation).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type KubeObject, ResourceClient } from '@harbormaster/kube';
import { startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import {
  clusterProxyAnalysisTemplateType,
  ProxyRollout,
  proxyAnalysisTemplateType,
  proxyRolloutType,
} from '../src/api.ts';
import { installOurCrds } from '../src/crds.ts';

type Loose = KubeObject & Record<string, unknown>;
/** A ProxyRollout spec as tests bend it into invalid shapes. */
type DraftSpec = {
  targetRef: Record<string, unknown>;
  strategy: { canary: { steps: unknown[]; backgroundAnalysis?: unknown } };
  [field: string]: unknown;
};
type DraftRollout = KubeObject & { spec: DraftSpec };

const validRollout = (): DraftRollout => ({
  metadata: { name: 'eg', namespace: 'default' },
  spec: {
    targetRef: { kind: 'Gateway', name: 'eg' },
    strategy: {
      canary: {
        steps: [
          { setReplicas: { count: 1 } },
          { analysis: { templateRef: { name: 'health' } } },
          { pause: { duration: '30s' } },
        ],
      },
    },
  },
});

const validTemplate = (name = 'health'): Loose => ({
  metadata: { name, namespace: 'default' },
  spec: {
    metrics: [
      {
        name: 'error-ratio',
        successCondition: 'canary <= stable * 1.1 + 0.001',
        provider: { envoyStats: {} },
      },
    ],
  },
});

describe('CRDs on a real API server', () => {
  let cluster: TestCluster;
  let rollouts: ResourceClient<Loose>;
  let templates: ResourceClient<Loose>;

  before(async () => {
    cluster = await startTestCluster({ nodes: 1 });
    await installOurCrds(cluster.rest);
    rollouts = new ResourceClient(cluster.rest, proxyRolloutType);
    templates = new ResourceClient(cluster.rest, proxyAnalysisTemplateType);
  });
  after(() => cluster?.stop());

  /** Creates `object` and returns the API server's refusal message (fails the test if it was accepted). */
  async function refusal(client: ResourceClient<Loose>, object: Loose): Promise<string> {
    try {
      await client.create(object);
    } catch (error) {
      assert.match(String(error), /422/);
      return String(error);
    }
    assert.fail(`${object.metadata.name} was accepted`);
  }

  it('accepts a valid ProxyRollout, fills in the defaults, and it parses as our type', async () => {
    const created = await rollouts.create(validRollout());
    const spec = created.spec as Record<string, unknown>;
    assert.equal(spec.hold, true);
    assert.equal(spec.autoStart, false);
    assert.equal(spec.paused, false);
    assert.equal(spec.progressDeadlineSeconds, 600);
    assert.equal(spec.onDelete, 'LeavePaused');
    const steps = (spec.strategy as { canary: { steps: { analysis?: { templateRef: { kind: string } } }[] } })
      .canary.steps;
    assert.equal(steps[1]?.analysis?.templateRef.kind, 'ProxyAnalysisTemplate');
    ProxyRollout.parse(created);
    await rollouts.delete('eg', 'default');
  });

  it('serves status as a subresource: a spec write does not change it', async () => {
    const created = await rollouts.create({
      ...validRollout(),
      metadata: { name: 'st', namespace: 'default' },
    });
    await rollouts.patch('st', 'default', 'merge', { status: { phase: 'Idle' } }, 'status');
    await rollouts.patch('st', 'default', 'merge', {
      spec: { autoStart: true },
      status: { phase: 'Aborted' },
    });
    const read = await rollouts.get('st', 'default');
    assert.equal((read.status as { phase: string }).phase, 'Idle');
    assert.equal((read.metadata.generation ?? 0) > (created.metadata.generation ?? 0), true);
  });

  it('refuses a step with two actions, naming the step', async () => {
    const bad = validRollout();
    bad.spec.strategy.canary.steps = [{ setReplicas: { count: 1 }, pause: {} }];
    const message = await refusal(rollouts, bad);
    assert.match(message, /spec\.strategy\.canary\.steps\[0\]/);
    assert.match(message, /exactly one of setReplicas, pause or analysis/);
  });

  it('refuses setReplicas with both count and percentOfStable', async () => {
    const bad = validRollout();
    bad.spec.strategy.canary.steps = [{ setReplicas: { count: 1, percentOfStable: 10 } }];
    const message = await refusal(rollouts, bad);
    assert.match(message, /spec\.strategy\.canary\.steps\[0\]\.setReplicas/);
    assert.match(message, /exactly one of count or percentOfStable/);
  });

  it('refuses an unknown target kind, a percentage above 100, a bad duration and an empty step list', async () => {
    const cases: [(spec: DraftSpec) => void, RegExp][] = [
      [(s) => (s.targetRef.kind = 'Deployment'), /spec\.targetRef\.kind: Unsupported value: "Deployment"/],
      [
        (s) => (s.strategy.canary.steps = [{ setReplicas: { percentOfStable: 150 } }]),
        /spec\.strategy\.canary\.steps\[0\]\.setReplicas\.percentOfStable: Invalid value: 150/,
      ],
      [
        (s) => (s.strategy.canary.steps = [{ pause: { duration: 'ten minutes' } }]),
        /spec\.strategy\.canary\.steps\[0\]\.pause\.duration: Invalid value/,
      ],
      [(s) => (s.strategy.canary.steps = []), /spec\.strategy\.canary\.steps: Invalid value/],
      [(s) => (s.onDelete = 'Delete'), /spec\.onDelete: Unsupported value/],
      [(s) => (s.progressDeadlineSeconds = 1), /spec\.progressDeadlineSeconds: Invalid value: 1/],
    ];
    for (const [mutate, expected] of cases) {
      const bad = validRollout();
      mutate(bad.spec);
      assert.match(await refusal(rollouts, bad), expected);
    }
  });

  it('refuses a namespace on a GatewayClass target and a backgroundAnalysis starting past the last step', async () => {
    const classTarget = validRollout();
    classTarget.spec.targetRef = {
      kind: 'GatewayClass',
      name: 'eg',
      namespace: 'x',
    };
    assert.match(await refusal(rollouts, classTarget), /spec\.targetRef\.namespace.*cluster-scoped/);
    const background = validRollout();
    background.spec.strategy.canary.backgroundAnalysis = {
      templateRef: { name: 'health' },
      startingStep: 3,
    };
    assert.match(
      await refusal(rollouts, background),
      /spec\.strategy\.canary\.backgroundAnalysis\.startingStep.*must name one of the steps/,
    );
  });

  it('accepts a blue/green strategy with its defaults, and it parses as our type', async () => {
    const created = await rollouts.create({
      metadata: { name: 'bg', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        strategy: { blueGreen: { prePromotionAnalysis: { templateRef: { name: 'health' } } } },
      },
    });
    const strategy = (created.spec as { strategy: { blueGreen: Record<string, unknown> } }).strategy;
    assert.deepEqual(strategy.blueGreen, {
      previewService: true,
      gateLabel: 'app.kubernetes.io/managed-by',
      prePromotionAnalysis: { templateRef: { name: 'health', kind: 'ProxyAnalysisTemplate' } },
    });
    const parsed = ProxyRollout.parse(created);
    assert.ok('blueGreen' in parsed.spec.strategy);
    await rollouts.delete('bg', 'default');
  });

  it('refuses a strategy with both canary and blueGreen, or neither, naming the field', async () => {
    const both = validRollout();
    (both.spec.strategy as Record<string, unknown>).blueGreen = {};
    const message = await refusal(rollouts, both);
    assert.match(
      message,
      /spec\.strategy: Invalid value.*exactly one of canary or blueGreen \(a Deployment fleet\) or daemonSet/,
    );
    const neither = validRollout();
    neither.spec.strategy = {} as DraftSpec['strategy'];
    assert.match(
      await refusal(rollouts, neither),
      /spec\.strategy: .*exactly one of canary or blueGreen \(a Deployment fleet\) or daemonSet/,
    );
    const negative = validRollout();
    negative.spec.strategy = { blueGreen: { autoPromotionSeconds: -1 } } as unknown as DraftSpec['strategy'];
    assert.match(
      await refusal(rollouts, negative),
      /spec\.strategy\.blueGreen\.autoPromotionSeconds: Invalid value: -1/,
    );
  });

  it('a DaemonSet strategy: default batches, each batch checked, exactly one of canary or daemonSet', async () => {
    const daemonSet = (name: string, strategy: Record<string, unknown>): Loose => ({
      metadata: { name, namespace: 'default' },
      spec: { targetRef: { kind: 'Gateway', name: 'eg' }, strategy },
    });
    const created = await rollouts.create(
      daemonSet('ds', { daemonSet: { analysis: { templateRef: { name: 'health' } } } }),
    );
    const parsed = ProxyRollout.parse(created);
    assert.deepEqual(parsed.spec.strategy.daemonSet?.batches, ['1 node', '10%', '50%', '100%']);
    assert.equal(parsed.spec.strategy.daemonSet?.analysis?.templateRef.kind, 'ProxyAnalysisTemplate');
    assert.match(
      await refusal(rollouts, daemonSet('bad-batch', { daemonSet: { batches: ['1 node', 'half'] } })),
      /spec\.strategy\.daemonSet\.batches\[1\]: Invalid value: "half"/,
    );
    assert.match(
      await refusal(rollouts, daemonSet('bad-percent', { daemonSet: { batches: ['150%'] } })),
      /spec\.strategy\.daemonSet\.batches\[0\]/,
    );
    assert.match(
      await refusal(
        rollouts,
        daemonSet('both', { daemonSet: {}, canary: { steps: [{ setReplicas: { count: 1 } }] } }),
      ),
      /spec\.strategy: Invalid value.*exactly one of canary or blueGreen \(a Deployment fleet\) or daemonSet/,
    );
    assert.match(
      await refusal(rollouts, daemonSet('neither', {})),
      /spec\.strategy: Invalid value.*exactly one of canary/,
    );
  });

  it('accepts a valid analysis template with defaults, namespaced and cluster-scoped', async () => {
    const created = await templates.create(validTemplate());
    const metric = (created.spec as { metrics: Record<string, unknown>[] }).metrics[0];
    assert.equal(metric?.interval, '30s');
    assert.equal(metric?.count, 3);
    assert.equal(metric?.failureLimit, 0);
    assert.deepEqual(metric?.provider, {
      envoyStats: { port: 19001, path: '/stats/prometheus', responseCodeClass: '5' },
    });
    const clusterTemplates = new ResourceClient<Loose>(cluster.rest, clusterProxyAnalysisTemplateType);
    const { namespace: _, ...clusterMeta } = validTemplate('shared').metadata;
    await clusterTemplates.create({ ...validTemplate('shared'), metadata: clusterMeta });
  });

  it('refuses a metric with two providers, none, or no successCondition, naming the metric', async () => {
    const withMetric = (metric: Record<string, unknown>): Loose => ({
      metadata: { name: 'bad', namespace: 'default' },
      spec: { metrics: [{ name: 'm', ...metric }] },
    });
    assert.match(
      await refusal(
        templates,
        withMetric({ successCondition: 'canary < 1', provider: { envoyStats: {}, kubernetes: {} } }),
      ),
      /spec\.metrics\[0\]\.provider.*exactly one of prometheus, envoyStats, kubernetes or webhook/,
    );
    assert.match(
      await refusal(templates, withMetric({ provider: { envoyStats: {} } })),
      /spec\.metrics\[0\]\.successCondition.*successCondition is required/,
    );
    assert.match(
      await refusal(
        templates,
        withMetric({
          successCondition: 'x',
          provider: { prometheus: { address: 'prom:9090', query: 'up' } },
        }),
      ),
      /spec\.metrics\[0\]\.provider\.prometheus\.address: Invalid value/,
    );
    assert.match(
      await refusal(templates, withMetric({ name: 'Bad_Name', provider: { kubernetes: {} } })),
      /spec\.metrics\[0\]\.name: Invalid value/,
    );
  });
});
