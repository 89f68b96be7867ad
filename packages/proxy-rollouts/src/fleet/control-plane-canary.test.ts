import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ControlPlanes, newController, oldController } from '../../test/support/control-planes.ts';
import { FleetWorld, fleetSpec } from '../../test/support/fleet-world.ts';
import type { FleetAction } from './reconcile.ts';

const canarySpec = (overrides: Record<string, unknown> = {}) => ({
  controllerName: newController,
  gatewayClassName: 'eg-canary',
  count: 1,
  soak: '30s',
  ...overrides,
});

/** A settled fleet of `size` Gateways in class eg, with both EGs, running a pre-flight of `canary`. */
function world(canary: Record<string, unknown> = {}, size = 4): FleetWorld {
  const w = new FleetWorld(
    fleetSpec({
      gatewayClassName: 'eg',
      waves: [{ gateways: ['gw-00'] }, { rest: true }],
      controlPlaneCanary: canarySpec(canary),
    }),
    size,
  );
  for (const g of w.gateways) g.gatewayClassName = 'eg';
  w.controlPlanes = new ControlPlanes(w.gateways.map((g) => g.name));
  return w;
}

function stepUntil(w: FleetWorld, done: () => boolean, limit = 100, ms = 1_000) {
  for (let i = 0; i < limit && !done(); i++) w.step(ms);
  assert.ok(done(), `not reached: phase ${w.status.phase} ${w.status.message ?? ''}`);
}
const events = (w: FleetWorld) =>
  w.history.flatMap((h) =>
    h.decision.actions.filter((a) => a.type === 'event').map((a) => (a as { reason: string }).reason),
  );
const condition = (w: FleetWorld, type: string) => w.status.conditions?.find((c) => c.type === type);
const moves = (w: FleetWorld) =>
  (w.controlPlanes?.applied ?? []).flatMap((a) =>
    a.type === 'moveGateway' ? [`${a.gateway}→${a.gatewayClassName}`] : [],
  );

describe('the control-plane canary pre-flight', () => {
  it("lends the first wave's Gateway to the new EG, soaks, moves it back, and only then lets waves roll", () => {
    const w = world();
    w.step();
    const cp = () => w.status.controlPlaneCanary;
    assert.equal(cp()?.phase, 'Moving');
    assert.deepEqual(cp()?.gateways, [{ name: 'gw-00', originalClass: 'eg' }]);
    assert.equal(cp()?.oldControllerName, oldController);
    assert.deepEqual(w.controlPlanes?.applied[0], {
      type: 'ensureGatewayClass',
      name: 'eg-canary',
      controllerName: newController,
      copyFrom: 'eg',
    });
    assert.deepEqual(moves(w), ['gw-00→eg-canary']);
    assert.equal(w.status.phase, 'Progressing');
    assert.equal(condition(w, 'Ready')?.reason, 'ControlPlaneCanary');
    assert.ok(!w.members.has('gw-00'), 'no member for a lent Gateway');

    // An upgrade shows up meanwhile: nothing is approved before the pre-flight passed.
    w.step();
    w.render('bbbbbbbbbb');
    stepUntil(w, () => cp()?.phase === 'Soaking');
    assert.equal(condition(w, 'ControlPlaneCanary')?.reason, 'Soaking');
    assert.ok(!w.members.has('gw-00'));
    stepUntil(w, () => cp()?.phase === 'Passed', 100, 5_000);
    assert.deepEqual(moves(w).slice(-1), ['gw-00→eg']);
    assert.ok(
      w.history.every((h) => h.approved.length === 0 || h.previous.controlPlaneCanary?.phase === 'Passed'),
      'no approval before Passed',
    );
    assert.equal(condition(w, 'ControlPlaneCanary')?.status, 'True');
    assert.deepEqual(w.controlPlanes?.applied.at(-1), { type: 'deleteGatewayClass', name: 'eg-canary' });
    assert.equal(
      w.controlPlanes?.classes['eg-canary'],
      undefined,
      'the class it created is gone with its leftovers',
    );
    assert.match(cp()?.message ?? '', /accepted everything .* did over 30s; the lent Gateways are back on/);
    assert.deepEqual(
      [
        'ControlPlaneCanaryStarted',
        'ControlPlaneCanarySoaking',
        'ControlPlaneCanarySoaked',
        'ControlPlaneCanaryPassed',
      ].filter((e) => events(w).includes(e)).length,
      4,
    );
    w.render('bbbbbbbbbb');
    stepUntil(w, () => w.status.phase === 'Succeeded');
    assert.equal(w.status.counts?.upToDate, 4);
    assert.equal(
      w.members.get('gw-00')?.stableRevision,
      'bbbbbbbbbb',
      'the lent Gateway is rolled like the others',
    );
  });

  it('a policy the new EG rejects fails it, names the policy, moves the Gateway back and halts the fleet; retry runs it again', () => {
    const w = world();
    let luaDisabled = true;
    w.controlPlanes?.attached.set('gw-00', [
      { object: 'HTTPRoute default/web', acceptedBy: () => true },
      { object: 'EnvoyExtensionPolicy default/lua', acceptedBy: (c) => c === oldController || !luaDisabled },
    ]);
    stepUntil(w, () => w.status.controlPlaneCanary?.phase === 'Failed');
    const cp = w.status.controlPlaneCanary;
    assert.equal(cp?.rejected?.length, 1);
    assert.match(
      cp?.rejected?.[0] ?? '',
      /^EnvoyExtensionPolicy default\/lua: Accepted=False \(Invalid: Skipping Lua EnvoyExtensionPolicy as feature is disabled in the Gateway\) under gateway.envoyproxy.io\/canary-v1-9-1; Accepted=True under gateway.envoyproxy.io\/gatewayclass-controller$/,
    );
    assert.deepEqual(moves(w), ['gw-00→eg-canary', 'gw-00→eg']);
    assert.equal(w.status.phase, 'Halted');
    assert.equal(condition(w, 'Degraded')?.reason, 'ControlPlaneCanaryFailed');
    assert.match(
      condition(w, 'Degraded')?.message ?? '',
      /EnvoyExtensionPolicy default\/lua: Accepted=False/,
    );
    assert.match(condition(w, 'Degraded')?.message ?? '', /kubectl proxyrollout fleet retry edge/);
    w.render('bbbbbbbbbb');
    for (let i = 0; i < 10; i++) w.step();
    assert.equal(w.status.phase, 'Halted');
    assert.ok(
      w.history.every((h) => h.approved.length === 0),
      'nothing approved while it failed',
    );
    assert.ok(w.members.has('gw-00'), "the Gateway is the fleet's again");

    luaDisabled = false;
    w.action = 'retry';
    w.step();
    assert.equal(w.status.controlPlaneCanary?.phase, 'Moving', 'a new pre-flight');
    assert.ok(!events(w).includes('NothingToRetry'));
    stepUntil(w, () => w.status.controlPlaneCanary?.phase === 'Passed', 100, 5_000);
    stepUntil(w, () => w.status.phase === 'Succeeded');
  });

  it("NACKs of the lent proxies beyond the old EG's and failureLimit fail it, naming the xDS type", () => {
    const w = world({ failureLimit: 1, metrics: { canary: 'http://new-eg:19001/metrics' } });
    if (!w.controlPlanes) throw new Error('no control planes');
    const listener = 'type.googleapis.com/envoy.config.listener.v3.Listener';
    w.controlPlanes.nacks.stable = [{ pod: 'envoy-eg-gw-00-0', typeUrl: listener, count: 1 }];
    stepUntil(w, () => w.status.controlPlaneCanary?.phase === 'Soaking');
    assert.deepEqual(w.status.controlPlaneCanary?.baselineNacks, { [listener]: 1 });
    w.controlPlanes.nacks.canary = [
      { pod: 'envoy-eg-canary-gw-00-0', typeUrl: listener, count: 2 },
      { pod: 'envoy-eg-canary-other-0', typeUrl: listener, count: 50 },
    ];
    w.step();
    assert.equal(
      w.status.controlPlaneCanary?.phase,
      'Soaking',
      '2 - 1 = 1 NACK is within failureLimit 1; other proxies do not count',
    );
    w.controlPlanes.nacks.canary = [{ pod: 'envoy-eg-canary-gw-00-0', typeUrl: listener, count: 3 }];
    stepUntil(w, () => w.status.controlPlaneCanary?.phase === 'Failed');
    assert.match(
      w.status.controlPlaneCanary?.rejected?.[0] ?? '',
      /xds_nack_total of gateway.envoyproxy.io\/canary-v1-9-1 for the lent Gateways' proxies: type.googleapis.com\/envoy.config.listener.v3.Listener 2 more than under/,
    );
  });

  it('a new EG whose metrics cannot be read for the whole soak fails it', () => {
    const w = world({ metrics: { canary: 'http://new-eg:19001/metrics' } });
    if (!w.controlPlanes) throw new Error('no control planes');
    w.controlPlanes.nacks.canary = { error: 'http://new-eg:19001/metrics: ECONNREFUSED' };
    stepUntil(w, () => w.status.controlPlaneCanary?.phase === 'Failed', 100, 5_000);
    assert.match(
      w.status.controlPlaneCanary?.rejected?.[0] ?? '',
      /could not be read \(http:\/\/new-eg:19001\/metrics: ECONNREFUSED\)/,
    );
  });

  it('a Gateway the new EG does not program in time, and a canary class it does not accept, fail it', () => {
    const slow = world({ programmedDeadlineSeconds: 20 });
    slow.controlPlanes?.programs.set(newController, false);
    stepUntil(slow, () => slow.status.controlPlaneCanary?.phase === 'Failed', 100, 5_000);
    assert.match(
      slow.status.controlPlaneCanary?.rejected?.[0] ?? '',
      /^Gateway gw-00: not Programmed by gateway.envoyproxy.io\/canary-v1-9-1 within 20s \(Gateway gw-00: Programmed=False \(NoResources\)\)/,
    );
    const refused = world();
    refused.step();
    const cls = refused.controlPlanes?.classes['eg-canary'];
    if (cls) cls.acceptedByItsEg = false;
    stepUntil(refused, () => refused.status.controlPlaneCanary?.phase === 'Failed');
    assert.match(
      refused.status.controlPlaneCanary?.rejected?.[0] ?? '',
      /GatewayClass eg-canary: Accepted=False \(InvalidParameters: EnvoyProxy missing\)/,
    );
  });

  it("refuses to start with a class of another controller, or with the old EG's own controllerName", () => {
    const taken = world();
    if (taken.controlPlanes)
      taken.controlPlanes.classes['eg-canary'] = {
        controllerName: 'example.com/other',
        acceptedByItsEg: true,
      };
    taken.step();
    assert.equal(taken.status.controlPlaneCanary?.phase, 'Failed');
    assert.match(
      taken.status.controlPlaneCanary?.message ?? '',
      /GatewayClass eg-canary belongs to example.com\/other/,
    );
    assert.deepEqual(moves(taken), [], 'nothing moved');
    const same = world({ controllerName: oldController });
    same.step();
    assert.match(same.status.controlPlaneCanary?.message ?? '', /is the old EG's own/);
    const missing = world({ count: undefined, gateways: ['gw-99'] });
    missing.step();
    assert.match(missing.status.controlPlaneCanary?.message ?? '', /Gateway gw-99 not found/);
  });

  it('a new pre-flight waits until the class the previous one deleted is gone', () => {
    const w = world();
    w.controlPlanes?.attached.set('gw-00', [
      { object: 'HTTPRoute default/web', acceptedBy: (c) => c === oldController },
    ]);
    stepUntil(w, () => w.status.controlPlaneCanary?.phase === 'Failed');
    assert.ok(
      w.controlPlanes?.applied.some((a) => a.type === 'deleteGatewayClass'),
      'the class it created is deleted (foreground)',
    );
    // The garbage collector is still removing the lent proxies: the class is there, being deleted.
    if (w.controlPlanes)
      w.controlPlanes.classes['eg-canary'] = {
        controllerName: newController,
        acceptedByItsEg: true,
        deleting: true,
      };
    const cp = () => w.status.controlPlaneCanary;
    w.action = 'retry';
    w.reconcile();
    assert.equal(cp(), undefined);
    assert.match(
      w.status.message ?? '',
      /waiting until GatewayClass eg-canary of the previous pre-flight is deleted/,
    );
    assert.equal(w.status.phase, 'Progressing');
    w.controlPlanes?.tick();
    w.step();
    assert.equal(cp()?.phase, 'Moving');
    assert.equal(w.controlPlanes?.applied.filter((a) => a.type === 'ensureGatewayClass').length, 2);
  });

  it('removing the pre-flight mid-soak gives the Gateways back and clears it', () => {
    const w = world({ gateways: ['gw-01', 'gw-02'], count: undefined });
    stepUntil(w, () => w.status.controlPlaneCanary?.phase === 'Soaking');
    w.spec = fleetSpec({ gatewayClassName: 'eg', waves: [{ gateways: ['gw-00'] }, { rest: true }] });
    w.step();
    assert.equal(w.status.controlPlaneCanary?.phase, 'Restoring');
    assert.deepEqual(moves(w).slice(-2).sort(), ['gw-01→eg', 'gw-02→eg']);
    stepUntil(w, () => w.status.controlPlaneCanary === undefined);
    assert.ok(
      w.controlPlanes?.applied.some((a) => a.type === 'deleteGatewayClass' && a.name === 'eg-canary'),
      'the class it created goes too',
    );
    stepUntil(w, () => w.members.has('gw-01') && w.members.has('gw-02'));
    assert.equal(w.status.phase, 'Idle');
  });

  it('moves are only ever to the canary class or back to the original', () => {
    const w = world({ count: 2 });
    w.controlPlanes?.attached.set('gw-01', [
      { object: 'GRPCRoute default/g', acceptedBy: (c) => c === oldController },
    ]);
    stepUntil(w, () => w.status.controlPlaneCanary?.phase === 'Failed');
    const actions = w.history.flatMap((h) => h.decision.actions) as FleetAction[];
    for (const a of actions)
      if (a.type === 'moveGateway') assert.ok(['eg', 'eg-canary'].includes(a.gatewayClassName));
    assert.deepEqual(
      w.gateways.map((g) => g.gatewayClassName),
      ['eg', 'eg', 'eg', 'eg'],
    );
  });
});
