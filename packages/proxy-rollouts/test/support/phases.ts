// Builds a World in each phase of the state machine by driving it there through events, so every
// phase × event test starts from a state the controller really reaches.
import type { Phase } from '../../src/api.ts';
import { defaultSpec, World } from './world.ts';

export const newRevision = 'bbbbbbbbbb';

/** The phases, and Progressing twice: waiting for canary pods, and with its analysis step running. */
export type PhaseSetup = Phase | 'Progressing(analysis)';

export function worldIn(phase: PhaseSetup): World {
  const world = new World();
  world.reconcile();
  switch (phase) {
    case 'Idle':
      break;
    case 'Pending':
      world.render(newRevision);
      world.reconcile();
      break;
    case 'Progressing':
      // Approved; the canary was asked for but its pods are not available yet.
      world.render(newRevision);
      world.reconcile();
      world.canariesBecomeReady = false;
      world.spec = { ...world.spec, approvedRevision: newRevision };
      world.reconcile();
      break;
    case 'Progressing(analysis)':
      world.render(newRevision);
      world.spec = { ...world.spec, approvedRevision: newRevision };
      world.reconcile();
      world.reconcile();
      break;
    case 'Paused':
      world.render(newRevision);
      world.spec = { ...world.spec, approvedRevision: newRevision, paused: true };
      world.reconcile();
      break;
    case 'Promoting':
      // Unpaused to promote; the Deployment controller has not rolled yet.
      world.render(newRevision);
      world.spec = { ...world.spec, approvedRevision: newRevision };
      world.reconcile();
      world.action = 'promote';
      world.reconcile();
      world.undoSettle();
      break;
    case 'Succeeded':
      // Promote, see the native rollout done and pause again, then see the pause.
      world.render(newRevision);
      world.spec = { ...world.spec, approvedRevision: newRevision };
      world.reconcile();
      world.action = 'promote';
      world.reconcile();
      world.reconcile();
      world.reconcile();
      break;
    case 'Aborting':
      // The abort asked for the canary's deletion, which has not happened yet.
      world.render(newRevision);
      world.spec = { ...world.spec, approvedRevision: newRevision };
      world.reconcile();
      world.keepDeletedCanaries = true;
      world.action = 'abort';
      world.reconcile();
      world.keepDeletedCanaries = false;
      break;
    case 'Aborted':
      world.render(newRevision);
      world.spec = { ...world.spec, approvedRevision: newRevision };
      world.reconcile();
      world.action = 'abort';
      world.reconcile();
      world.reconcile();
      break;
    case 'Degraded':
      world.workload.strategyType = 'Recreate';
      world.render(newRevision);
      world.spec = { ...world.spec, approvedRevision: newRevision };
      world.reconcile();
      break;
  }
  const expected = phase === 'Progressing(analysis)' ? 'Progressing' : phase;
  if (world.status.phase !== expected) throw new Error(`set-up for ${phase} reached ${world.status.phase}`);
  return world;
}

export { defaultSpec };
