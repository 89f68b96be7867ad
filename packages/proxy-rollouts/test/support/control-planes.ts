// A small model of two Envoy Gateway control planes side by side for the control-plane canary's unit tests:
// GatewayClasses by controller, Gateways that each EG programs a round after they join its class, routes and
// policies whose acceptance depends on the controller, and each EG's xds_nack_total. Moves are applied as the
// fleet adapter applies them.
import type { CanaryAction, ControlPlaneObserved } from '../../src/fleet/control-plane-canary.ts';
import type { XdsNack } from '../../src/xds-nacks.ts';

export const oldController = 'gateway.envoyproxy.io/gatewayclass-controller';
export const newController = 'gateway.envoyproxy.io/canary-v1-9-1';

export class ControlPlanes {
  readonly classes: Record<string, { controllerName: string; acceptedByItsEg: boolean; deleting?: boolean }> =
    {
      eg: { controllerName: oldController, acceptedByItsEg: true },
    };
  /** Gateway → its class and the class its current EG has programmed it in (a round after a move). */
  readonly gateways = new Map<string, { gatewayClassName: string; programmedIn?: string }>();
  /** Objects hanging off each Gateway: `Kind ns/name` → whether each controller accepts it. */
  readonly attached = new Map<string, { object: string; acceptedBy: (controller: string) => boolean }[]>();
  /** Whether each EG has its Gateways programmed (the new one may be broken). */
  readonly programs = new Map<string, boolean>([
    [oldController, true],
    [newController, true],
  ]);
  nacks: { canary?: XdsNack[] | { error: string }; stable?: XdsNack[] | { error: string } } = {
    canary: [],
    stable: [],
  };
  /** Every action applied, in order. */
  readonly applied: CanaryAction[] = [];

  constructor(gateways: string[]) {
    for (const g of gateways) this.gateways.set(g, { gatewayClassName: 'eg', programmedIn: 'eg' });
  }

  /** The proxy pods of a Gateway: named after the class that serves it, as EG's node IDs would differ. */
  pods(gateway: string): string[] {
    const g = this.gateways.get(gateway);
    return g ? [`envoy-${g.gatewayClassName}-${gateway}-0`] : [];
  }

  observe(): ControlPlaneObserved {
    const observed: ControlPlaneObserved = {
      classes: {},
      gateways: {},
      verdicts: [],
      proxyPods: {},
      nacks: this.nacks,
    };
    for (const [name, c] of Object.entries(this.classes))
      observed.classes[name] = {
        controllerName: c.controllerName,
        ...(c.deleting ? { deleting: true } : {}),
        accepted: {
          status: c.acceptedByItsEg ? 'True' : 'False',
          reason: c.acceptedByItsEg ? 'Accepted' : 'InvalidParameters',
          message: c.acceptedByItsEg ? 'valid' : 'EnvoyProxy missing',
        },
      };
    for (const [name, g] of this.gateways) {
      const controller = this.classes[g.gatewayClassName]?.controllerName ?? '';
      const programmed = g.programmedIn === g.gatewayClassName && (this.programs.get(controller) ?? false);
      observed.gateways[name] = {
        gatewayClassName: g.gatewayClassName,
        current:
          g.programmedIn === g.gatewayClassName
            ? [
                { type: 'Accepted', status: 'True', reason: 'Accepted' },
                {
                  type: 'Programmed',
                  status: programmed ? 'True' : 'False',
                  reason: programmed ? 'Programmed' : 'NoResources',
                },
              ]
            : [],
      };
      observed.proxyPods[name] = this.pods(name);
      if (g.programmedIn === g.gatewayClassName)
        for (const a of this.attached.get(name) ?? []) {
          const accepted = a.acceptedBy(controller);
          observed.verdicts.push({
            gateway: name,
            object: a.object,
            condition: 'Accepted',
            status: accepted ? 'True' : 'False',
            reason: accepted ? 'Accepted' : 'Invalid',
            message: accepted
              ? undefined
              : 'Skipping Lua EnvoyExtensionPolicy as feature is disabled in the Gateway',
            controllerName: controller,
          });
        }
    }
    return observed;
  }

  apply(action: CanaryAction): void {
    this.applied.push(action);
    if (action.type === 'ensureGatewayClass')
      this.classes[action.name] = { controllerName: action.controllerName, acceptedByItsEg: true };
    else if (action.type === 'deleteGatewayClass') {
      // Foreground deletion: gone a round later, with the proxies it owns.
      const c = this.classes[action.name];
      if (c) c.deleting = true;
    } else {
      const g = this.gateways.get(action.gateway);
      if (g) g.gatewayClassName = action.gatewayClassName;
    }
  }

  /** The EGs catch up: each programs the Gateways that joined its class. */
  tick(): void {
    for (const g of this.gateways.values()) g.programmedIn = g.gatewayClassName;
    for (const [name, c] of Object.entries(this.classes)) if (c.deleting) delete this.classes[name];
  }
}
