// A small model of a fleet of Gateways and their member ProxyRollouts for the fleet reconcile's tests. Each
// member behaves as its own controller does: a pending revision waits in Pending until spec.approvedRevision
// names it, then rolls for `rollTicks` ticks and ends Succeeded, or aborts if its Gateway is marked failing.
// The fleet's actions are applied as the adapter and the member controller would.
import { dueMeasurements, type Measurement } from '../../src/analysis.ts';
import type { Metric, Phase } from '../../src/api.ts';
import { ProxyFleetRolloutSpec, type ProxyFleetRolloutStatus } from '../../src/fleet/api.ts';
import {
  type FleetAction,
  type FleetDecision,
  type ObservedMember,
  reconcileFleet,
} from '../../src/fleet/reconcile.ts';
import type { ControlPlanes } from './control-planes.ts';

export const fleetSpec = (overrides: Record<string, unknown> = {}) =>
  ProxyFleetRolloutSpec.parse({
    selector: { matchLabels: { fleet: 'edge' } },
    template: { strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } } },
    waves: [{ gateways: ['gw-00'] }, { percent: 25, gate: { approval: {} } }, { rest: true }],
    maxConcurrent: 3,
    detectionWindowSeconds: 0,
    ...overrides,
  });

type Member = ObservedMember & { ticks: number };

export class FleetWorld {
  now = Date.parse('2026-06-01T12:00:00Z');
  generation = 1;
  action?: 'approve' | 'abort' | 'retry';
  status: ProxyFleetRolloutStatus = {};
  gateways: { name: string; labels: Record<string, string>; gatewayClassName?: string }[];
  readonly members = new Map<string, Member>();
  /** Gateways whose canary fails analysis. */
  readonly failing = new Set<string>();
  /** Reconciles a member stays Progressing before it succeeds (or aborts). */
  rollTicks = 2;
  /** Analysis templates by `kind/name`, as the adapter reads them for analysis gates. */
  templates: Record<string, { metrics: Metric[] } | { problem: string }> = {};
  /** What a gate's metric measures now (the adapter's providers); by default a healthy upgraded fleet. */
  gateValue: (metric: string) => Omit<Measurement, 'run' | 'metric' | 'at'> = () => ({
    value: { canary: 0.01, stable: 0.01, samples: 1000 },
  });
  /** Both EGs, when the fleet runs a control-plane canary. */
  controlPlanes?: ControlPlanes;
  /** Every gate measurement taken, in order. */
  readonly gateMeasurements: Measurement[] = [];
  /** Every decision with the gateways it approved (newly) and the state of the world when it was made. */
  readonly history: {
    decision: FleetDecision;
    approved: string[];
    previous: ProxyFleetRolloutStatus;
    members: Map<string, ObservedMember>;
    action?: string;
  }[] = [];

  constructor(
    public spec = fleetSpec(),
    size = 10,
  ) {
    this.gateways = Array.from({ length: size }, (_, i) => ({
      name: `gw-${String(i).padStart(2, '0')}`,
      labels: { fleet: 'edge' },
    }));
  }

  /** EG renders a new revision for every Gateway (an EG upgrade). */
  render(hash: string): void {
    for (const m of this.members.values()) {
      if (m.stableRevision === hash) continue;
      m.pendingRevision = hash;
      m.phase = 'Pending';
      m.degraded = undefined;
      m.ticks = 0;
    }
  }

  reconcile(): FleetDecision {
    const previous = structuredClone(this.status);
    const members = new Map([...this.members].map(([g, m]) => [g, structuredClone(m)]));
    const action = this.action;
    // As the adapter: measure the running gate analysis's due metrics before the reconcile.
    const run = this.status.gateAnalysis;
    const measurements: Measurement[] = [];
    if (run?.phase === 'Running' && this.status.phase === 'Waiting') {
      const entry = run.template ? this.templates[run.template] : undefined;
      const metrics = entry && 'metrics' in entry ? entry.metrics : undefined;
      for (const due of dueMeasurements([run], () => metrics, new Date(this.now)))
        measurements.push({
          run: due.run,
          metric: due.metric.name,
          at: new Date(this.now).toISOString(),
          ...this.gateValue(due.metric.name),
        });
      this.gateMeasurements.push(...measurements);
    }
    const decision = reconcileFleet(
      {
        now: new Date(this.now),
        fleet: 'edge',
        generation: this.generation,
        action: this.action,
        gateways: this.gateways,
        members: [...this.members.values()].map(({ ticks: _, ...m }) => structuredClone(m)),
        templates: this.templates,
        measurements,
        controlPlane: this.controlPlanes?.observe(),
      },
      this.spec,
      this.status,
    );
    const before = new Map([...this.members].map(([g, m]) => [g, m.approvedRevision]));
    for (const action of decision.actions) this.apply(action);
    this.status = decision.status;
    this.action = undefined;
    const approved = [...this.members]
      .filter(([g, m]) => m.approvedRevision && m.approvedRevision !== before.get(g))
      .map(([g]) => g);
    this.history.push({ decision, approved, previous, members, action });
    return decision;
  }

  apply(action: FleetAction): void {
    switch (action.type) {
      case 'applyMember': {
        const m = this.members.get(action.gateway);
        if (m) {
          m.approvedRevision = action.approvedRevision;
          m.templateHash = action.templateHash;
        } else
          this.members.set(action.gateway, {
            name: action.name,
            gateway: action.gateway,
            approvedRevision: action.approvedRevision,
            templateHash: action.templateHash,
            ticks: 0,
          });
        return;
      }
      case 'deleteMember':
        for (const [g, m] of this.members) if (m.name === action.name) this.members.delete(g);
        return;
      case 'memberAction': {
        const m = [...this.members.values()].find((x) => x.name === action.name);
        if (m) m.action = action.action;
        return;
      }
      case 'ensureGatewayClass':
      case 'deleteGatewayClass':
      case 'moveGateway':
        this.controlPlanes?.apply(action);
        if (action.type === 'moveGateway')
          for (const g of this.gateways)
            if (g.name === action.gateway) g.gatewayClassName = action.gatewayClassName;
        return;
      case 'clearAction':
      case 'event':
        return;
    }
  }

  /** One round of every member's own controller. */
  tickMembers(): void {
    for (const m of this.members.values()) {
      const action = m.action;
      m.action = undefined;
      if (!m.phase) {
        m.phase = 'Idle';
        m.stableRevision = 'aaaaaaaaaa';
        continue;
      }
      const set = (phase: Phase) => {
        m.phase = phase;
      };
      if (m.phase === 'Aborted') {
        if (action === 'retry') {
          m.degraded = undefined;
          m.ticks = 0;
          set('Progressing');
        }
        continue;
      }
      if (!m.pendingRevision) continue;
      if (m.phase === 'Pending' && m.approvedRevision === m.pendingRevision) set('Progressing');
      else if (m.phase === 'Progressing') {
        m.ticks++;
        if (action === 'abort' || (this.failing.has(m.gateway) && m.ticks >= 2)) {
          set('Aborted');
          m.degraded = {
            reason: action === 'abort' ? 'Aborted' : 'AnalysisFailed',
            message: action === 'abort' ? 'aborted by the user' : 'error-ratio: canary 0.2 > stable 0.01',
            since: new Date(this.now).toISOString(),
          };
        } else if (m.ticks >= this.rollTicks) {
          m.stableRevision = m.pendingRevision;
          m.pendingRevision = undefined;
          set('Succeeded');
        }
      }
    }
  }

  /** Reconcile, let the members act, let time pass. */
  step(ms = 1_000): FleetDecision {
    const decision = this.reconcile();
    this.tickMembers();
    this.controlPlanes?.tick();
    this.now += ms;
    return decision;
  }

  waveOf(gateway: string): number {
    return this.status.gateways?.find((r) => r.gateway === gateway)?.wave ?? -1;
  }
}
