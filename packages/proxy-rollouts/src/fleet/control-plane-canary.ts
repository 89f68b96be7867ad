// The control-plane canary pre-flight of a fleet, a pure function of what was observed: lend a few Gateways to
// a new Envoy Gateway running beside the old one under its own controllerName (by their gatewayClassName),
// wait until the new EG programs them, compare over the soak what the new EG accepts (Gateway, route and
// policy conditions; its xds_nack_total for their proxies) with what the old one accepted before the move,
// then move them back, whatever the outcome. EG gives each Gateway's proxies a Deployment and Service in the
// namespace of the EG that serves it, so a lent Gateway's proxies are replaced twice; only Gateways where
// that is acceptable should be lent.
//
// Why back: after the pre-flight the user upgrades the old EG in place (the two-step upgrade); a Gateway
// left on the canary EG would sit outside the fleet (its member ProxyRollout is removed while it is lent,
// since holding the canary EG's fresh Deployment would stop it from ever creating pods), on a control plane
// the user is about to remove, with proxies in another namespace behind another Service.
import { createHash } from 'node:crypto';
import { parseDuration } from '../duration.ts';
import type { XdsNack } from '../xds-nacks.ts';
import type { CanaryVerdict, ControlPlaneCanary, ControlPlaneCanaryStatus } from './api.ts';

export type ControllerVerdict = CanaryVerdict & { controllerName: string };

export type ControlPlaneObserved = {
  /** GatewayClasses by name: their controller and, if reported, their Accepted condition. */
  classes: Record<
    string,
    {
      controllerName: string;
      accepted?: { status: string; reason?: string; message?: string };
      /** Being deleted (foreground: its dependents, a previous pre-flight's lent proxies, go first). */
      deleting?: boolean;
    }
  >;
  /** The namespace's Gateways: their class and the conditions written for their current generation. */
  gateways: Record<
    string,
    {
      gatewayClassName?: string;
      current: { type: string; status: string; reason?: string; message?: string }[];
    }
  >;
  /** Conditions of routes and policies attached to the namespace's Gateways, by the controller that wrote them. */
  verdicts: ControllerVerdict[];
  /** Each Gateway's proxy pod names (the node IDs EG's xds_nack_total counts by). */
  proxyPods: Record<string, string[]>;
  /** Each EG's xds_nack_total series above 0, or why it could not be read. */
  nacks: { canary?: XdsNack[] | { error: string }; stable?: XdsNack[] | { error: string } };
};

export type CanaryAction =
  /** Creates the canary GatewayClass for `controllerName`, with the parametersRef of class `copyFrom`. */
  | { type: 'ensureGatewayClass'; name: string; controllerName: string; copyFrom: string }
  /** Sets a Gateway's spec.gatewayClassName. */
  | { type: 'moveGateway'; gateway: string; gatewayClassName: string }
  /**
   * Deletes the canary GatewayClass the pre-flight created, once its Gateways are back: EG does not clean up
   * the proxies of a Gateway that left its class, but they carry the class as owner, so the garbage collector
   * removes them with it.
   */
  | { type: 'deleteGatewayClass'; name: string };

export type CanaryDecision = {
  status?: ControlPlaneCanaryStatus;
  actions: CanaryAction[];
  events: { eventType: 'Normal' | 'Warning'; reason: string; note: string }[];
  requeueAt?: number;
  /** Gateways lent to the canary EG right now: the fleet keeps no member for them. */
  lent: string[];
  /** `hold`: nothing may be approved; `failed`: halt the fleet; `clear`: no pre-flight or it passed. */
  gate: 'clear' | 'hold' | 'failed';
  /** What it waits for before it can start, when it has no status yet. */
  note?: string;
};

/** How often a running pre-flight looks again (it reads statuses and metrics, it does not watch them). */
const pollMs = 2_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function canarySpecHash(spec: ControlPlaneCanary): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 10);
}

/** The conditions one EG wrote for a Gateway's current generation, as verdicts. */
function gatewayVerdicts(observed: ControlPlaneObserved, gateway: string): ControllerVerdict[] {
  const g = observed.gateways[gateway];
  const controllerName = g?.gatewayClassName
    ? observed.classes[g.gatewayClassName]?.controllerName
    : undefined;
  if (!g || !controllerName) return [];
  return g.current
    .filter((c) => c.type === 'Accepted' || c.type === 'Programmed')
    .map((c) => ({
      gateway,
      object: `Gateway ${gateway}`,
      condition: c.type,
      status: c.status as CanaryVerdict['status'],
      reason: c.reason,
      message: c.message,
      controllerName,
    }));
}

/** Every verdict of `controllerName` on the lent Gateways, their routes and policies. */
function verdictsOf(
  observed: ControlPlaneObserved,
  controllerName: string,
  gateways: string[],
): CanaryVerdict[] {
  return [
    ...gateways.flatMap((g) => gatewayVerdicts(observed, g)),
    ...observed.verdicts.filter((v) => gateways.includes(v.gateway)),
  ]
    .filter((v) => v.controllerName === controllerName)
    .map(({ controllerName: _, ...v }) => v);
}

const nacksByType = (nacks: XdsNack[], pods: Set<string>) => {
  const byType: Record<string, number> = {};
  for (const n of nacks) if (pods.has(n.pod)) byType[n.typeUrl] = (byType[n.typeUrl] ?? 0) + n.count;
  return byType;
};

const describe = (v: CanaryVerdict) =>
  `${v.object}: ${v.condition}=${v.status}${v.reason ? ` (${v.reason}${v.message ? `: ${v.message}` : ''})` : ''}`;

/**
 * One round of the pre-flight. `selectedInWaveOrder` are the fleet's Gateways, first wave first (where
 * `count` takes its Gateways from).
 */
export function reconcileControlPlaneCanary(
  spec: ControlPlaneCanary | undefined,
  previous: ControlPlaneCanaryStatus | undefined,
  observed: ControlPlaneObserved,
  selectedInWaveOrder: string[],
  now: number,
  retry: boolean,
): CanaryDecision {
  const decision: CanaryDecision = { actions: [], events: [], lent: [], gate: 'clear' };
  const event = (eventType: 'Normal' | 'Warning', reason: string, note: string) =>
    decision.events.push({ eventType, reason, note });
  let status = previous ? structuredClone(previous) : undefined;
  const hash = spec ? canarySpecHash(spec) : undefined;
  const lentNow = (s: ControlPlaneCanaryStatus) =>
    s.gateways
      .filter((g) => observed.gateways[g.name]?.gatewayClassName !== g.originalClass)
      .map((g) => g.name);

  // A pre-flight of another spec (or none any more, or one the user retries) first gives its Gateways back.
  if (status && (status.specHash !== hash || (retry && status.phase === 'Failed'))) {
    const stillLent = lentNow(status);
    if (stillLent.length > 0) {
      status.phase = 'Restoring';
      status.outcome = 'Failed';
      status.message = `spec.controlPlaneCanary ${spec ? 'changed' : 'was removed'}: ${stillLent.join(', ')} go back to ${status.oldControllerName} first`;
      for (const g of status.gateways)
        if (stillLent.includes(g.name))
          decision.actions.push({ type: 'moveGateway', gateway: g.name, gatewayClassName: g.originalClass });
      decision.lent = stillLent;
      decision.gate = 'hold';
      decision.requeueAt = now + pollMs;
      decision.status = status;
      return decision;
    }
    // Given back before it ended: the class it created goes too (a finished one deleted its class already).
    if (status.createdClass && status.gatewayClassName && status.phase === 'Restoring')
      decision.actions.push({ type: 'deleteGatewayClass', name: status.gatewayClassName });
    status = undefined;
  }
  if (!spec) return decision;
  if (!status) {
    const existing = observed.classes[spec.gatewayClassName];
    if (existing?.deleting) {
      // The class of a previous pre-flight is going, and its lent proxies with it: a new class of the same
      // name now would have EG apply to objects the garbage collector is about to delete.
      decision.gate = 'hold';
      decision.note = `waiting until GatewayClass ${spec.gatewayClassName} of the previous pre-flight is deleted`;
      decision.requeueAt = now + pollMs;
      return decision;
    }
    status = start(spec, hash as string);
  } else step(status);
  decision.status = status;
  return decision;

  function start(canary: ControlPlaneCanary, specHash: string): ControlPlaneCanaryStatus {
    const fail = (message: string): ControlPlaneCanaryStatus => {
      event('Warning', 'ControlPlaneCanaryFailed', message);
      decision.gate = 'failed';
      return {
        specHash,
        phase: 'Failed',
        outcome: 'Failed',
        message,
        startedAt: iso(now),
        gateways: [],
        baseline: [],
        rejected: [message],
      };
    };
    const chosen = canary.gateways ?? selectedInWaveOrder.slice(0, canary.count);
    const missing = chosen.filter((g) => !observed.gateways[g]);
    if (missing.length > 0) return fail(`Gateway ${missing.join(', ')} not found in the fleet's namespace`);
    if (chosen.length === 0) return fail('the fleet selects no Gateway to lend');
    const originals = chosen.map((g) => ({
      name: g,
      originalClass: observed.gateways[g]?.gatewayClassName ?? '',
    }));
    const onCanary = originals.filter((g) => g.originalClass === canary.gatewayClassName);
    if (onCanary.length > 0)
      return fail(
        `Gateway ${onCanary.map((g) => g.name).join(', ')} already uses class ${canary.gatewayClassName}; the pre-flight needs them on the old EG first`,
      );
    const oldControllers = [
      ...new Set(originals.map((g) => observed.classes[g.originalClass]?.controllerName)),
    ];
    const oldControllerName = oldControllers[0];
    if (oldControllers.length !== 1 || !oldControllerName)
      return fail(
        `the lent Gateways must share one existing GatewayClass controller (found ${oldControllers.map((c) => c ?? 'none').join(', ')})`,
      );
    if (oldControllerName === canary.controllerName)
      return fail(
        `controllerName ${canary.controllerName} is the old EG's own; run the new EG under its own`,
      );
    const existing = observed.classes[canary.gatewayClassName];
    if (existing && existing.controllerName !== canary.controllerName)
      return fail(
        `GatewayClass ${canary.gatewayClassName} belongs to ${existing.controllerName}, not ${canary.controllerName}`,
      );
    const names = originals.map((g) => g.name);
    const pods = new Set(names.flatMap((g) => observed.proxyPods[g] ?? []));
    const stable = observed.nacks.stable;
    const fresh: ControlPlaneCanaryStatus = {
      specHash,
      phase: 'Moving',
      startedAt: iso(now),
      oldControllerName,
      gatewayClassName: canary.gatewayClassName,
      gateways: originals,
      baseline: verdictsOf(observed, oldControllerName, names),
      message: `lending ${names.join(', ')} to ${canary.controllerName} (class ${canary.gatewayClassName})`,
    };
    if (stable && !('error' in stable)) fresh.baselineNacks = nacksByType(stable, pods);
    if (!existing) {
      fresh.createdClass = true;
      decision.actions.push({
        type: 'ensureGatewayClass',
        name: canary.gatewayClassName,
        controllerName: canary.controllerName,
        copyFrom: originals[0]?.originalClass ?? '',
      });
    }
    for (const g of names)
      decision.actions.push({ type: 'moveGateway', gateway: g, gatewayClassName: canary.gatewayClassName });
    decision.lent = names;
    decision.gate = 'hold';
    decision.requeueAt = now + pollMs;
    event(
      'Normal',
      'ControlPlaneCanaryStarted',
      `${fresh.message}; nothing is approved until the pre-flight passes`,
    );
    return fresh;
  }

  function step(s: ControlPlaneCanaryStatus) {
    const canary = spec;
    if (s.phase === 'Passed') return;
    if (s.phase === 'Failed') {
      decision.gate = 'failed';
      return;
    }
    if (s.phase === 'Restoring') return restore(s, lentNow(s));
    if (!canary) return;
    decision.gate = 'hold';
    decision.lent = s.gateways.map((g) => g.name);
    decision.requeueAt = now + pollMs;
    const names = s.gateways.map((g) => g.name);
    const newVerdicts = verdictsOf(observed, canary.controllerName, names);
    const classAccepted = observed.classes[canary.gatewayClassName]?.accepted;
    if (classAccepted?.status === 'False')
      return failWith(s, [
        `GatewayClass ${canary.gatewayClassName}: Accepted=False (${classAccepted.reason ?? ''}: ${classAccepted.message ?? ''})`,
      ]);
    if (s.phase === 'Moving') {
      for (const g of names)
        if (observed.gateways[g]?.gatewayClassName !== canary.gatewayClassName)
          decision.actions.push({
            type: 'moveGateway',
            gateway: g,
            gatewayClassName: canary.gatewayClassName,
          });
      const programmed = (g: string) =>
        observed.gateways[g]?.gatewayClassName === canary.gatewayClassName &&
        newVerdicts.some(
          (v) => v.object === `Gateway ${g}` && v.condition === 'Programmed' && v.status === 'True',
        );
      const waiting = names.filter((g) => !programmed(g));
      if (waiting.length === 0) {
        s.phase = 'Soaking';
        s.soakStartedAt = iso(now);
        s.message = `soaking ${names.join(', ')} under ${canary.controllerName} for ${canary.soak}`;
        event(
          'Normal',
          'ControlPlaneCanarySoaking',
          `${canary.controllerName} programmed ${names.join(', ')}; soaking for ${canary.soak}`,
        );
        return;
      }
      const deadline = Date.parse(s.startedAt) + canary.programmedDeadlineSeconds * 1000;
      if (now >= deadline)
        return failWith(
          s,
          waiting.map((g) => {
            const p = newVerdicts.find((v) => v.object === `Gateway ${g}` && v.condition === 'Programmed');
            return `Gateway ${g}: not Programmed by ${canary.controllerName} within ${canary.programmedDeadlineSeconds}s${p ? ` (${describe(p)})` : ''}`;
          }),
        );
      s.message = `waiting for ${canary.controllerName} to program ${waiting.join(', ')}`;
      return;
    }
    // Soaking: anything the old EG accepted that the new one refuses fails the pre-flight at once.
    const soakEnds = Date.parse(s.soakStartedAt ?? s.startedAt) + parseDuration(canary.soak);
    const over = now >= soakEnds;
    const rejected: string[] = [];
    for (const before of s.baseline) {
      if (before.status !== 'True') continue;
      const after = newVerdicts.find((v) => v.object === before.object && v.condition === before.condition);
      if (after && after.status === 'False')
        rejected.push(
          `${describe(after)} under ${canary.controllerName}; ${before.condition}=True under ${s.oldControllerName}`,
        );
      else if (!after && over)
        rejected.push(
          `${before.object}: no ${before.condition} condition from ${canary.controllerName}; ${before.condition}=True under ${s.oldControllerName}`,
        );
    }
    const canaryNacks = observed.nacks.canary;
    if (canary.metrics?.canary) {
      if (canaryNacks && !('error' in canaryNacks)) {
        s.nackReads = (s.nackReads ?? 0) + 1;
        s.nackError = undefined;
        const pods = new Set(names.flatMap((g) => observed.proxyPods[g] ?? []));
        const counted = nacksByType(canaryNacks, pods);
        const excess = Object.entries(counted)
          .map(([type, count]) => [type, count - (s.baselineNacks?.[type] ?? 0)] as const)
          .filter(([, extra]) => extra > 0);
        const total = excess.reduce((sum, [, extra]) => sum + extra, 0);
        if (total > canary.failureLimit)
          rejected.push(
            `xds_nack_total of ${canary.controllerName} for the lent Gateways' proxies: ${excess.map(([t, n]) => `${t} ${n}`).join(', ')} more than under ${s.oldControllerName} (failureLimit ${canary.failureLimit})`,
          );
      } else if (canaryNacks) s.nackError = canaryNacks.error;
      if (over && !s.nackReads)
        rejected.push(
          `xds_nack_total of ${canary.controllerName} could not be read (${s.nackError ?? 'no answer'})`,
        );
    }
    if (rejected.length > 0) return failWith(s, rejected);
    if (!over) {
      decision.requeueAt = Math.min(now + pollMs, soakEnds);
      s.message = `soaking ${names.join(', ')} under ${canary.controllerName} until ${iso(soakEnds)}`;
      return;
    }
    s.phase = 'Restoring';
    s.outcome = 'Passed';
    s.message = `${canary.controllerName} accepted everything ${s.oldControllerName} did over ${canary.soak}; moving ${names.join(', ')} back`;
    event('Normal', 'ControlPlaneCanarySoaked', s.message);
    restore(s, lentNow(s));
  }

  function failWith(s: ControlPlaneCanaryStatus, rejected: string[]) {
    s.rejected = rejected;
    s.phase = 'Restoring';
    s.outcome = 'Failed';
    s.message = `${spec?.controllerName ?? 'the new EG'} rejected what ${s.oldControllerName} accepted: ${rejected.join('; ')}`;
    event('Warning', 'ControlPlaneCanaryFailed', `${s.message}; moving the lent Gateways back`);
    restore(s, lentNow(s));
  }

  /** Moves the lent Gateways back; done when the old EG programmed them again (or at once, after a failure). */
  function restore(s: ControlPlaneCanaryStatus, stillLent: string[]) {
    if (s.phase !== 'Restoring') {
      s.phase = 'Restoring';
      s.outcome ??= 'Failed';
    }
    for (const g of s.gateways)
      if (stillLent.includes(g.name))
        decision.actions.push({ type: 'moveGateway', gateway: g.name, gatewayClassName: g.originalClass });
    const old = s.oldControllerName ?? '';
    const back = s.gateways.filter(
      (g) =>
        !stillLent.includes(g.name) &&
        gatewayVerdicts(observed, g.name).some(
          (v) => v.controllerName === old && v.condition === 'Programmed' && v.status === 'True',
        ),
    );
    const done = s.outcome === 'Failed' ? stillLent.length === 0 : back.length === s.gateways.length;
    decision.lent = s.gateways.filter((g) => stillLent.includes(g.name)).map((g) => g.name);
    if (!done) {
      decision.gate = s.outcome === 'Failed' ? 'failed' : 'hold';
      decision.requeueAt = now + pollMs;
      return;
    }
    s.phase = s.outcome ?? 'Failed';
    if (s.createdClass && spec)
      decision.actions.push({ type: 'deleteGatewayClass', name: spec.gatewayClassName });
    if (s.phase === 'Passed') {
      s.message = `${s.message?.replace(/; moving .* back$/, '') ?? 'passed'}; the lent Gateways are back on ${old}`;
      event('Normal', 'ControlPlaneCanaryPassed', s.message);
      decision.gate = 'clear';
    } else decision.gate = 'failed';
  }
}
