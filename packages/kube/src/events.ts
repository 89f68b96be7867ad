import { randomBytes } from 'node:crypto';
import type { Counter } from 'prom-client';
import type { KubeObject } from './objects.ts';
import { apiVersionOf, builtin, type InvalidObject, ResourceClient, type ResourceType } from './resources.ts';
import type { KubeRest } from './rest.ts';
import { microTime } from './time.ts';

export type EventType = 'Normal' | 'Warning';

/** What happened: `reason` is a constant (CamelCase) users filter on, `note` the human-readable detail. */
export type EventDetails = { type: EventType; reason: string; action: string; note: string };

/**
 * Records events.k8s.io/v1 Events about objects, as `kubectl describe` and `kubectl events` show them.
 * Writing an event never fails the caller: events are advisory.
 */
export class EventRecorder {
  private readonly events: ResourceClient<KubeObject & Record<string, unknown>>;

  constructor(
    rest: KubeRest,
    private readonly controller: string,
    private readonly instance: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.events = new ResourceClient(rest, builtin.event);
  }

  async record(regarding: KubeObject, regardingType: ResourceType, details: EventDetails): Promise<void> {
    const { type, reason, action, note } = details;
    const namespace = regarding.metadata.namespace ?? 'default';
    try {
      await this.events.create({
        metadata: { name: `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
        eventTime: microTime(new Date()),
        reportingController: this.controller,
        reportingInstance: this.instance,
        action,
        reason,
        type,
        note: note.slice(0, 1024),
        regarding: {
          apiVersion: apiVersionOf(regardingType),
          kind: regardingType.kind,
          name: regarding.metadata.name,
          namespace: regarding.metadata.namespace,
          uid: regarding.metadata.uid,
          resourceVersion: regarding.metadata.resourceVersion,
        },
      });
    } catch (error) {
      this.onError(error);
    }
  }
}

/**
 * An informer's `onInvalid` that tells the object's owner: a Warning Event `InvalidObject` on the object
 * (what `kubectl describe` shows) naming the field, and a count per kind for alerts.
 */
export function reportInvalidObjects(
  recorder: EventRecorder,
  type: ResourceType,
  counter?: Counter<'kind'>,
): (invalid: InvalidObject) => void {
  return (invalid) => {
    counter?.inc({ kind: invalid.kind });
    void recorder.record(invalid.raw, type, {
      type: 'Warning',
      reason: 'InvalidObject',
      action: 'Decode',
      note: `ignored by the controller: field ${invalid.field}: ${invalid.message}`,
    });
  };
}
