import { createHash } from 'node:crypto';
import { setCondition } from '@harbormaster/kube';
import { type Measurement, nextPollAt, type ObservedTemplates, recordRuns } from '../analysis.ts';
import type { AnalysisRun, AnalysisStep, Phase } from '../api.ts';
import { parseDuration } from '../duration.ts';
import { templateKey } from '../reconcile.ts';
import type {
  FleetManualAction,
  FleetPhase,
  Gate,
  GateKind,
  GatewayRow,
  LabelSelector,
  MemberTemplate,
  ProxyFleetRolloutSpec,
  ProxyFleetRolloutStatus,
  Wave,
} from './api.ts';
import {
  type CanaryAction,
  type CanaryDecision,
  type ControlPlaneObserved,
  reconcileControlPlaneCanary,
} from './control-plane-canary.ts';

/** A Gateway in the fleet's namespace, as the fleet controller sees it. */
export type ObservedGateway = { name: string; labels?: Record<string, string>; gatewayClassName?: string };

/** A member ProxyRollout (one per selected Gateway), as the fleet controller sees it. */
export type ObservedMember = {
  name: string;
  gateway: string;
  /** spec.approvedRevision and the template hash annotation it was applied with. */
  approvedRevision?: string;
  templateHash?: string;
  /** The member's manual-action annotation, while its controller has not cleared it. */
  action?: string;
  phase?: Phase;
  stableRevision?: string;
  pendingRevision?: string;
  /** The member's Degraded condition while True (why it aborted or cannot roll), with its transition time. */
  degraded?: { reason: string; message: string; since: string };
  message?: string;
};

export type FleetObserved = {
  now: Date;
  /** The fleet's name (members are called `<fleet>-<gateway>`) and generation. */
  fleet: string;
  generation: number;
  action?: FleetManualAction;
  /** Every Gateway in the fleet's namespace; the reconcile selects. */
  gateways: ObservedGateway[];
  /** Every ProxyRollout labelled as a member of this fleet. */
  members: ObservedMember[];
  /** Analysis templates of analysis gates by `kind/name`: their metrics, or why they cannot be used. */
  templates?: ObservedTemplates;
  /** Measurements of the running gate analysis (`status.gateAnalysis`) the adapter took this round. */
  measurements?: Measurement[];
  /** What the control-plane canary pre-flight reads (when spec.controlPlaneCanary is set or was). */
  controlPlane?: ControlPlaneObserved;
};

export type FleetAction =
  /** Server-side apply of the member ProxyRollout for `gateway` (template, target, approval, labels). */
  | {
      type: 'applyMember';
      name: string;
      gateway: string;
      /** The member's wave: its strategy is that wave's, if it has one (see `memberTemplateFor`). */
      wave: number;
      approvedRevision?: string;
      templateHash: string;
    }
  | { type: 'deleteMember'; name: string }
  /** Sets a manual action on a member (its own controller runs it and clears it). */
  | { type: 'memberAction'; name: string; action: 'abort' | 'retry' }
  | { type: 'clearAction' }
  | CanaryAction
  | { type: 'event'; eventType: 'Normal' | 'Warning'; reason: string; note: string };

export type FleetDecision = {
  actions: FleetAction[];
  status: ProxyFleetRolloutStatus;
  requeueAfterMs?: number;
};

/** Where a member is in the current round, from the fleet's point of view. */
export type MemberState = 'creating' | 'upToDate' | 'waiting' | 'progressing' | 'aborted' | 'degraded';

export const memberName = (fleet: string, gateway: string) => `${fleet}-${gateway}`;

/** The spec template of a member of `wave`: the fleet's template, with the wave's strategy if it has one. */
export function memberTemplateFor(spec: ProxyFleetRolloutSpec, wave: number): MemberTemplate {
  const strategy = spec.waves[wave]?.strategy;
  return strategy ? { ...spec.template, strategy } : spec.template;
}

/**
 * How an analysis gate's template is looked up: its `kind/name`, with its args when it has some (one template
 * used by two gates with different args is two sets of metrics).
 */
export const gateTemplateKey = (step: AnalysisStep): string =>
  step.args?.length
    ? `${templateKey(step)}?${step.args.map((a) => `${a.name}=${a.value}`).join('&')}`
    : templateKey(step);

/** The name of the analysis run of the gate before `wave`. */
export const gateRunName = (wave: number) => `gate-${wave}`;

/**
 * The Gateways an analysis gate before `wave` compares: those the earlier waves upgraded (its canary) and
 * those not rolled yet, this wave's and every later one's (its stable fleet).
 */
export function gateGateways(
  gateways: ObservedGateway[],
  spec: ProxyFleetRolloutSpec,
  wave: number,
): { canary: string[]; stable: string[] } {
  const waves = assignWaves(selectGateways(gateways, spec), spec.waves);
  const names = [...waves.keys()];
  return {
    canary: names.filter((g) => (waves.get(g) ?? 0) < wave),
    stable: names.filter((g) => (waves.get(g) ?? 0) >= wave),
  };
}

/** A stable hash of the member template: members applied from another template are applied again. */
export function memberTemplateHash(template: MemberTemplate): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([, v]) => v !== undefined)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(template)))
    .digest('hex')
    .slice(0, 10);
}

export function matchesSelector(labels: Record<string, string> | undefined, selector: LabelSelector) {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (have[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const present = key in have;
    if (operator === 'Exists' && !present) return false;
    if (operator === 'DoesNotExist' && present) return false;
    if (operator === 'In' && !(present && values.includes(have[key] ?? ''))) return false;
    if (operator === 'NotIn' && present && values.includes(have[key] ?? '')) return false;
  }
  return true;
}

/** The Gateways the fleet rolls: those matching the selector and the class, by name. */
export function selectGateways(gateways: ObservedGateway[], spec: ProxyFleetRolloutSpec): string[] {
  return gateways
    .filter(
      (g) =>
        (!spec.selector || matchesSelector(g.labels, spec.selector)) &&
        (!spec.gatewayClassName || g.gatewayClassName === spec.gatewayClassName),
    )
    .map((g) => g.name)
    .sort();
}

/**
 * Each selected Gateway's wave. Waves take, in order: the named Gateways, ⌈percent × fleet size⌉ of the
 * remaining ones (by name), or all the rest; a Gateway no wave takes goes into the last wave.
 */
export function assignWaves(selected: string[], waves: Wave[]): Map<string, number> {
  const wave = new Map<string, number>();
  let remaining = [...selected].sort();
  waves.forEach((w, index) => {
    let picked: string[];
    if (w.gateways) picked = remaining.filter((name) => w.gateways?.includes(name));
    else if (w.percent !== undefined)
      picked = remaining.slice(0, Math.ceil((selected.length * w.percent) / 100));
    else picked = remaining;
    for (const name of picked) wave.set(name, index);
    remaining = remaining.filter((name) => !wave.has(name));
  });
  for (const name of remaining) wave.set(name, waves.length - 1);
  return wave;
}

/**
 * The fleet state machine, a pure function of what was observed, the spec and the previous status. It
 * approves a member (writes the pending revision's hash into its spec.approvedRevision) only when the
 * member's wave is the first one not up to date, that wave's gate has passed, the fleet is neither halted
 * nor aborted, and fewer than maxConcurrent approved members are still rolling.
 */
export function reconcileFleet(
  observed: FleetObserved,
  spec: ProxyFleetRolloutSpec,
  previous: ProxyFleetRolloutStatus,
): FleetDecision {
  return new FleetReconcile(observed, spec, previous).run();
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** How long a member may sit Aborted after a retry before the retry annotation is written again. */
const retryResendMs = 10_000;

class FleetReconcile {
  private readonly actions: FleetAction[] = [];
  private readonly status: ProxyFleetRolloutStatus;
  private readonly now: number;
  private requeueAt?: number;
  /** The user's approve opened a gate this round (else it is reported as having nothing to approve). */
  private approvedAGate = false;
  /** Why the analysis gate the fleet waits at cannot run (its template is missing or unusable). */
  private gateProblem?: string;
  /** Whether the control-plane canary pre-flight lets waves be approved. */
  private canaryGate: CanaryDecision['gate'] = 'clear';
  /** The previous round only held for the control-plane canary: its phase says nothing about rolling. */
  private readonly heldByCanary: boolean;

  constructor(
    private readonly observed: FleetObserved,
    private readonly spec: ProxyFleetRolloutSpec,
    previous: ProxyFleetRolloutStatus,
  ) {
    this.status = structuredClone(previous);
    this.now = observed.now.getTime();
    const ready = previous.conditions?.find((c) => c.type === 'Ready');
    this.heldByCanary =
      ready?.reason === 'ControlPlaneCanary' || ready?.reason === 'ControlPlaneCanaryFailed';
  }

  run(): FleetDecision {
    const { observed, spec, status } = this;
    const previousPhase = status.phase;
    // A Gateway lent to the control-plane canary is still the fleet's, in the class it goes back to.
    const originalClass = new Map(
      (status.controlPlaneCanary?.gateways ?? []).map((g) => [g.name, g.originalClass]),
    );
    const selected = selectGateways(
      observed.gateways.map((g) =>
        originalClass.has(g.name) ? { ...g, gatewayClassName: originalClass.get(g.name) } : g,
      ),
      spec,
    );
    const waves = assignWaves(selected, spec.waves);
    const canaryRetry =
      observed.action === 'retry' &&
      status.controlPlaneCanary?.phase === 'Failed' &&
      !!spec.controlPlaneCanary;
    const canary = this.controlPlaneCanary(
      [...selected].sort((a, b) => (waves.get(a) ?? 0) - (waves.get(b) ?? 0) || (a < b ? -1 : 1)),
      canaryRetry,
    );
    const lent = new Set(canary.lent);
    this.canaryGate = canary.gate;
    const members = new Map(observed.members.map((m) => [m.gateway, m]));
    const approvals = new Map((status.gateways ?? []).map((row) => [row.gateway, row.approvedRevision]));
    const hashes = spec.waves.map((_, wave) => memberTemplateHash(memberTemplateFor(spec, wave)));

    if (observed.action === 'abort' && !status.aborted) {
      status.aborted = true;
      this.event(
        'Warning',
        'FleetAborted',
        'aborted by the user: rolling members are aborted, no member is approved until retry',
      );
    }
    if (observed.action === 'retry' && (status.aborted || status.halted || status.gateFailure)) {
      const after = status.halted
        ? ` after Gateway ${status.halted.gateway} aborted`
        : status.gateFailure
          ? ` after the analysis gate before wave ${status.gateFailure.wave} failed`
          : '';
      this.event(
        'Normal',
        'FleetRetry',
        `retrying${after}: aborted members start again${status.gateFailure ? ', the gate analysis runs again' : ''}`,
      );
      if (status.gateFailure) {
        status.gate = undefined;
        status.gateAnalysis = undefined;
      }
      status.aborted = undefined;
      status.halted = undefined;
      status.gateFailure = undefined;
      status.retriedAt = iso(this.now);
    } else if (observed.action === 'retry' && !canaryRetry) {
      this.event('Warning', 'NothingToRetry', 'the fleet is neither halted nor aborted');
    }

    const stateOf = (gateway: string): MemberState => {
      const m = members.get(gateway);
      if (!m?.phase) return 'creating';
      if (m.phase === 'Aborting' || m.phase === 'Aborted')
        return this.retrying(m) ? 'progressing' : 'aborted';
      if (m.phase === 'Degraded') return 'degraded';
      if (!m.pendingRevision)
        return m.phase === 'Idle' || m.phase === 'Succeeded' ? 'upToDate' : 'progressing';
      return approvals.get(gateway) === m.pendingRevision ? 'progressing' : 'waiting';
    };
    const states = new Map(selected.map((g) => [g, stateOf(g)]));

    // A member that aborted stops the fleet until retry (the first one in wave order is named).
    const firstAborted = selected
      .filter((g) => states.get(g) === 'aborted')
      .sort((a, b) => (waves.get(a) ?? 0) - (waves.get(b) ?? 0))[0];
    if (firstAborted && !status.aborted && !status.halted) {
      const m = members.get(firstAborted);
      status.halted = {
        gateway: firstAborted,
        reason: m?.degraded?.reason ?? 'Aborted',
        message: m?.degraded?.message ?? m?.message ?? 'aborted',
      };
      this.event(
        'Warning',
        'MemberAborted',
        `Gateway ${firstAborted} aborted (${status.halted.reason}: ${status.halted.message}); later waves are held`,
      );
    }

    // The first wave with a Gateway that is not up to date is the one the fleet works on.
    const waveCount = spec.waves.length;
    const pendingIn = (wave: number) =>
      selected.filter((g) => waves.get(g) === wave && states.get(g) !== 'upToDate');
    let current: number | undefined;
    for (let w = 0; w < waveCount; w++)
      if (pendingIn(w).length > 0) {
        current = w;
        break;
      }

    const canaryMessage = status.controlPlaneCanary
      ? `control-plane canary ${status.controlPlaneCanary.phase}: ${status.controlPlaneCanary.message ?? ''}`
      : `control-plane canary: ${canary.note ?? ''}`;
    if (canary.gate !== 'clear' && !status.aborted) {
      // Nothing is approved before the new control plane passed its pre-flight.
      status.currentWave = current;
      this.enter(canary.gate === 'failed' ? 'Halted' : 'Progressing', canaryMessage);
    } else if (current === undefined) {
      // Every Gateway runs its newest revision: the round is over.
      status.gate = undefined;
      status.passedGates = undefined;
      status.retriedAt = undefined;
      status.roundStartedAt = undefined;
      status.currentWave = undefined;
      // A gate run of this round must not pass the same gate of the next one.
      if (!status.gateFailure) status.gateAnalysis = undefined;
      const wasRolling = previousPhase !== undefined && previousPhase !== 'Idle' && !this.heldByCanary;
      if (status.aborted || status.halted || status.gateFailure)
        this.enter(status.aborted ? 'Aborted' : 'Halted');
      else this.enter(wasRolling && selected.length > 0 ? 'Succeeded' : 'Idle');
    } else {
      status.currentWave = current;
      this.drive(current, pendingIn(current), states, members, approvals);
    }

    if (observed.action === 'approve' && !this.approvedAGate)
      this.event('Warning', 'NothingToApprove', 'the fleet is not waiting at an approval gate');

    // Members: one per selected Gateway, applied when missing, from another template or with another approval.
    for (const gateway of selected) {
      if (lent.has(gateway)) continue;
      const m = members.get(gateway);
      const approvedRevision = approvals.get(gateway);
      const wave = waves.get(gateway) ?? 0;
      const hash = hashes[wave] as string;
      if (!m || m.templateHash !== hash || m.approvedRevision !== approvedRevision)
        this.actions.push({
          type: 'applyMember',
          name: memberName(observed.fleet, gateway),
          gateway,
          wave,
          approvedRevision,
          templateHash: hash,
        });
    }
    for (const m of observed.members)
      if (lent.has(m.gateway)) {
        this.actions.push({ type: 'deleteMember', name: m.name });
        this.event(
          'Normal',
          'MemberRemoved',
          `Gateway ${m.gateway} is lent to the control-plane canary; its ProxyRollout ${m.name} is deleted until it is back (holding the canary EG's new Deployment would keep it from starting pods)`,
        );
      } else if (!waves.has(m.gateway)) {
        this.actions.push({ type: 'deleteMember', name: m.name });
        this.event(
          'Normal',
          'MemberRemoved',
          `Gateway ${m.gateway} is no longer selected; its ProxyRollout ${m.name} is deleted (its Deployment stays as it is)`,
        );
      }
    // Abort what rolls while aborted; retry what aborted before the retry.
    for (const gateway of selected) {
      const m = members.get(gateway);
      if (!m) continue;
      if (status.aborted && states.get(gateway) === 'progressing' && m.action !== 'abort')
        this.actions.push({ type: 'memberAction', name: m.name, action: 'abort' });
      if (this.retrying(m) && m.action !== 'retry' && this.retryDue(m))
        this.actions.push({ type: 'memberAction', name: m.name, action: 'retry' });
    }

    status.gateways = selected.map((gateway): GatewayRow => {
      const m = members.get(gateway);
      const row: GatewayRow = {
        gateway,
        wave: waves.get(gateway) ?? 0,
        member: memberName(observed.fleet, gateway),
        phase: m?.phase ?? 'Creating',
      };
      if (m?.stableRevision) row.revision = m.stableRevision;
      if (m?.pendingRevision) row.pendingRevision = m.pendingRevision;
      const approved = approvals.get(gateway);
      if (approved) row.approvedRevision = approved;
      const message = m?.degraded ? `${m.degraded.reason}: ${m.degraded.message}` : undefined;
      if (message) row.message = message;
      return row;
    });
    const count = (...wanted: MemberState[]) =>
      selected.filter((g) => wanted.includes(states.get(g) ?? 'creating')).length;
    status.counts = {
      total: selected.length,
      upToDate: count('upToDate'),
      progressing: count('progressing'),
      waiting: count('waiting', 'creating', 'degraded'),
      aborted: count('aborted'),
    };
    this.conditionsFor(selected.length, current, states);
    if (observed.action) this.actions.push({ type: 'clearAction' });
    status.observedGeneration = observed.generation;
    if (status.phase !== previousPhase)
      this.event('Normal', `Fleet${status.phase}`, status.message ?? `phase ${status.phase}`);
    const requeueAfterMs = this.requeueAt === undefined ? undefined : Math.max(0, this.requeueAt - this.now);
    return { actions: this.actions, status, requeueAfterMs };
  }

  /** Works on wave `current`: its gate first, then approvals up to maxConcurrent. */
  private drive(
    current: number,
    notUpToDate: string[],
    states: Map<string, MemberState>,
    members: Map<string, ObservedMember>,
    approvals: Map<string, string | undefined>,
  ) {
    const { status, spec, observed } = this;
    if (status.aborted) return this.enter('Aborted', 'aborted by the user; run retry to continue');
    if (status.halted)
      return this.enter(
        'Halted',
        `Gateway ${status.halted.gateway} aborted (${status.halted.reason}); waves after ${current} are held`,
      );
    if (status.gateFailure)
      return this.enter(
        'Halted',
        `the analysis gate before wave ${status.gateFailure.wave} failed (${gateFailureText(status.gateFailure)}); wave ${status.gateFailure.wave} and later are held`,
      );
    const rolling = ['Progressing', 'Waiting', 'Halted', 'Aborted'];
    if (
      notUpToDate.every((g) => states.get(g) === 'creating') &&
      (!rolling.includes(status.phase ?? '') || this.heldByCanary)
    )
      return this.enter('Idle', `waiting for ${notUpToDate.length} member ProxyRollouts to report`);
    status.roundStartedAt ??= iso(this.now);
    const collectedAt = Date.parse(status.roundStartedAt) + spec.detectionWindowSeconds * 1000;
    if (this.now < collectedAt) {
      this.requeueAt = collectedAt;
      return this.enter(
        'Progressing',
        `collecting pending revisions until ${iso(collectedAt)} (detectionWindowSeconds ${spec.detectionWindowSeconds}) before approving wave ${current}`,
      );
    }
    const wave = spec.waves[current] as Wave;
    const passed = status.passedGates ?? [];
    if (wave.gate && !passed.includes(current)) {
      if (status.gate?.wave !== current)
        status.gate = { wave: current, kind: gateKind(wave.gate), startedAt: iso(this.now) };
      const gate = status.gate;
      let open = false;
      let waitingFor: string;
      if ('approval' in wave.gate) {
        open = observed.action === 'approve';
        if (open) this.approvedAGate = true;
        waitingFor = `wave ${current} waits for approval (kubectl proxyrollout fleet approve ${observed.fleet})`;
      } else if ('pause' in wave.gate) {
        const opensAt = Date.parse(gate.startedAt) + parseDuration(wave.gate.pause.duration);
        open = this.now >= opensAt;
        if (!open) this.requeueAt = opensAt;
        waitingFor = `wave ${current} starts at ${iso(opensAt)} (pause ${wave.gate.pause.duration})`;
      } else {
        const outcome = this.analysisGate(current, wave.gate.analysis);
        if (outcome === 'failed') return;
        open = outcome === 'passed';
        waitingFor = outcome === 'passed' ? '' : outcome.waiting;
      }
      if (!open) return this.enter('Waiting', waitingFor);
      status.passedGates = [...passed, current].sort((a, b) => a - b);
      status.gate = undefined;
      this.event('Normal', 'GatePassed', `the ${gateKind(wave.gate)} gate before wave ${current} passed`);
    }
    const limit = wave.maxConcurrent ?? spec.maxConcurrent;
    // Rolling anywhere counts against the limit (a member approved by hand, or one still promoting).
    let inFlight = [...states.values()].filter((s) => s === 'progressing').length;
    for (const gateway of notUpToDate) {
      if (inFlight >= limit) break;
      if (states.get(gateway) !== 'waiting') continue;
      const pending = members.get(gateway)?.pendingRevision as string;
      approvals.set(gateway, pending);
      states.set(gateway, 'progressing');
      inFlight++;
      this.event(
        'Normal',
        'MemberApproved',
        `wave ${current}: Gateway ${gateway} approved for revision ${pending}`,
      );
    }
    const waiting = notUpToDate.filter((g) => states.get(g) === 'waiting').length;
    this.enter(
      'Progressing',
      `wave ${current} of ${spec.waves.length}: ${notUpToDate.length - waiting} rolling or not ready, ${waiting} waiting (maxConcurrent ${limit})`,
    );
  }

  /**
   * The analysis gate before `wave`: starts its run (the adapter measures it against the Gateways the earlier
   * waves upgraded and those not rolled yet), records this round's measurements, and passes when the run is
   * Successful. Any other end halts the fleet, naming the template and the metric, until retry.
   */
  private analysisGate(wave: number, step: AnalysisStep): 'passed' | 'failed' | { waiting: string } {
    const { status, observed } = this;
    const key = gateTemplateKey(step);
    const found = observed.templates?.[key];
    if (!found || 'problem' in found) {
      this.gateProblem = found
        ? `${key}: ${found.problem}`
        : `${key} was not found; create it or fix the gate's templateRef`;
      status.gateAnalysis = undefined;
      // (The controller's template informers wake the fleet when the template is created or fixed.)
      return { waiting: `wave ${wave} waits: the analysis gate cannot run (${this.gateProblem})` };
    }
    const name = gateRunName(wave);
    let run: AnalysisRun =
      status.gateAnalysis?.name === name && status.gateAnalysis.template === key
        ? status.gateAnalysis
        : { name, template: key, phase: 'Running', startedAt: iso(this.now), metrics: [] };
    [run] = recordRuns([run], observed.measurements ?? [], { [key]: found }) as [AnalysisRun];
    status.gateAnalysis = run;
    if (run.phase === 'Successful') return 'passed';
    if (run.phase === 'Running') {
      const at = nextPollAt([run], { [key]: found }, this.now);
      if (at !== undefined) this.requeueAt = Math.min(this.requeueAt ?? at, at);
      const taken = run.metrics.map((t) => `${t.name} ${t.successful + t.failed + t.inconclusive}`);
      return {
        waiting: `wave ${wave} waits for the analysis gate ${key}${taken.length ? ` (measured: ${taken.join(', ')})` : ''}`,
      };
    }
    const message = run.message ?? run.phase;
    status.gateFailure = {
      wave,
      template: key,
      metric: message.includes(':') ? message.slice(0, message.indexOf(':')) : undefined,
      phase: run.phase,
      message,
    };
    this.event(
      'Warning',
      'GateAnalysisFailed',
      `the analysis gate before wave ${wave} ended ${run.phase} (${gateFailureText(status.gateFailure)}); wave ${wave} and later are held`,
    );
    this.enter(
      'Halted',
      `the analysis gate before wave ${wave} failed (${gateFailureText(status.gateFailure)}); wave ${wave} and later are held`,
    );
    return 'failed';
  }

  /** Runs the control-plane canary pre-flight's round and takes its actions, events and status. */
  private controlPlaneCanary(selectedInWaveOrder: string[], retry: boolean): CanaryDecision {
    const { status, spec, observed } = this;
    if (!spec.controlPlaneCanary && !status.controlPlaneCanary)
      return { actions: [], events: [], lent: [], gate: 'clear' };
    const decision = reconcileControlPlaneCanary(
      spec.controlPlaneCanary,
      status.controlPlaneCanary,
      observed.controlPlane ?? { classes: {}, gateways: {}, verdicts: [], proxyPods: {}, nacks: {} },
      selectedInWaveOrder,
      this.now,
      retry,
    );
    status.controlPlaneCanary = decision.status;
    this.actions.push(...decision.actions);
    for (const e of decision.events) this.event(e.eventType, e.reason, e.note);
    if (decision.requeueAt !== undefined)
      this.requeueAt = Math.min(this.requeueAt ?? Number.POSITIVE_INFINITY, decision.requeueAt);
    return decision;
  }

  /** A member that aborted before the user's retry is being retried, not a new abort. */
  private retrying(m: ObservedMember): boolean {
    const { retriedAt } = this.status;
    if (!retriedAt || (m.phase !== 'Aborted' && m.phase !== 'Aborting')) return false;
    return !m.degraded || Date.parse(m.degraded.since) <= Date.parse(retriedAt);
  }

  private retryDue(m: ObservedMember): boolean {
    const lastRetry = Date.parse(this.status.retriedAt ?? '');
    // At the retry itself, then again if the member still shows Aborted long after (a lost annotation).
    return (
      this.observed.action === 'retry' || (m.phase === 'Aborted' && this.now - lastRetry >= retryResendMs)
    );
  }

  private enter(phase: FleetPhase, message?: string) {
    this.status.phase = phase;
    this.status.message = message;
  }

  private event(eventType: 'Normal' | 'Warning', reason: string, note: string) {
    this.actions.push({ type: 'event', eventType, reason, note });
  }

  private conditionsFor(total: number, current: number | undefined, states: Map<string, MemberState>) {
    const { status, observed } = this;
    const names = (state: MemberState) => [...states].filter(([, s]) => s === state).map(([g]) => g);
    const degradedMembers = names('degraded');
    const set = (type: string, value: 'True' | 'False', reason: string, message: string) => {
      status.conditions = setCondition(
        status.conditions,
        { type, status: value, reason, message, observedGeneration: observed.generation },
        observed.now,
      ).conditions;
    };
    const retry = `kubectl proxyrollout fleet retry ${observed.fleet}`;
    if (total === 0) {
      set(
        'Ready',
        'False',
        'NoGatewaysSelected',
        'no Gateway in this namespace matches spec.selector and spec.gatewayClassName',
      );
      set('Progressing', 'False', 'NoGatewaysSelected', 'nothing to roll');
    } else if (current === undefined) {
      set('Ready', 'True', 'AllUpToDate', `all ${total} Gateways run their newest revision`);
      set('Progressing', 'False', 'AllUpToDate', 'no Gateway has a pending revision');
    } else {
      const waitingReasons: Record<GateKind, string> = {
        approval: 'AwaitingApproval',
        pause: 'GatePause',
        analysis: 'GateAnalysis',
      };
      const reason = status.aborted
        ? 'FleetAborted'
        : status.halted
          ? 'MemberAborted'
          : status.gateFailure
            ? 'GateAnalysisFailed'
            : status.phase === 'Waiting'
              ? waitingReasons[status.gate?.kind ?? 'approval']
              : names('creating').length > 0 && names('progressing').length === 0
                ? 'WaitingForMembers'
                : 'WaveProgressing';
      set('Ready', 'False', reason, status.message ?? reason);
      set(
        'Progressing',
        status.aborted || status.halted || status.gateFailure ? 'False' : 'True',
        reason,
        status.message ?? reason,
      );
    }
    const cp = status.controlPlaneCanary;
    const canaryFailed = this.canaryGate === 'failed';
    if (this.canaryGate !== 'clear' && !status.aborted) {
      const reason = canaryFailed ? 'ControlPlaneCanaryFailed' : 'ControlPlaneCanary';
      set('Ready', 'False', reason, status.message ?? reason);
      set('Progressing', canaryFailed ? 'False' : 'True', reason, status.message ?? reason);
    }
    if (cp)
      set(
        'ControlPlaneCanary',
        cp.phase === 'Passed' ? 'True' : 'False',
        cp.phase === 'Restoring' ? `Restoring${cp.outcome}` : cp.phase,
        cp.message ?? cp.phase,
      );
    if (status.halted)
      set(
        'Degraded',
        'True',
        'MemberAborted',
        `Gateway ${status.halted.gateway} aborted (${status.halted.reason}: ${status.halted.message}); upgraded Gateways stay upgraded, the rest stay held. Fix the cause, then ${retry}`,
      );
    else if (status.gateFailure)
      set(
        'Degraded',
        'True',
        'GateAnalysisFailed',
        `the analysis gate before wave ${status.gateFailure.wave} failed (${gateFailureText(status.gateFailure)}); upgraded Gateways stay upgraded, the rest stay held. Fix the cause, then ${retry} (the gate runs again)`,
      );
    else if (canaryFailed)
      set(
        'Degraded',
        'True',
        'ControlPlaneCanaryFailed',
        `the new control plane rejected what the old one accepted: ${(cp?.rejected ?? []).join('; ') || cp?.message}. Nothing is approved; fix the new EG's configuration (or the objects), then ${retry} (the pre-flight runs again)`,
      );
    else if (status.aborted)
      set('Degraded', 'True', 'FleetAborted', `aborted by the user; ${retry} continues`);
    else if (this.gateProblem)
      set('Degraded', 'True', 'GateTemplateProblem', `${this.gateProblem}; the gate waits`);
    else if (degradedMembers.length > 0)
      set(
        'Degraded',
        'True',
        'MemberDegraded',
        `${degradedMembers.join(', ')}: their ProxyRollout cannot roll (see its Degraded condition); their wave waits`,
      );
    else set('Degraded', 'False', 'AsExpected', 'nothing is wrong');
  }
}

const gateKind = (gate: Gate): GateKind =>
  'approval' in gate ? 'approval' : 'pause' in gate ? 'pause' : 'analysis';

const gateFailureText = (failure: NonNullable<ProxyFleetRolloutStatus['gateFailure']>) =>
  `template ${failure.template}${failure.metric ? `, metric ${failure.metric}` : ''}: ${failure.phase}: ${failure.message}`;
