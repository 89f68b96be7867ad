import { nodeBatchPattern } from '../api.ts';

/** How many nodes one batch entry asks for, out of `nodesToMove`: `N node(s)` or `P%` (rounded up). */
export function batchSize(batch: string, nodesToMove: number): number {
  const match = nodeBatchPattern.exec(batch);
  if (!match) throw new Error(`"${batch}" is not a node batch: expected "N node(s)" or "P%"`);
  const count = batch.endsWith('%')
    ? Math.ceil((nodesToMove * Number.parseInt(batch, 10)) / 100)
    : Number.parseInt(batch, 10);
  return Math.min(Math.max(count, 1), nodesToMove);
}

/**
 * The cumulative number of nodes moved once each batch is done. Batches are cumulative targets, like
 * Argo's setWeight (`["1 node", "50%", "100%"]` moves 1, then up to half, then the rest), never go
 * backwards, and a list that stops short of every node gets a last batch for the rest, so a rollout that
 * passes its batches always ends with the whole fleet moved.
 */
export function batchTargets(batches: readonly string[], nodesToMove: number): number[] {
  const targets: number[] = [];
  for (const batch of batches) targets.push(Math.max(batchSize(batch, nodesToMove), targets.at(-1) ?? 0));
  if ((targets.at(-1) ?? 0) < nodesToMove || targets.length === 0) targets.push(nodesToMove);
  return targets;
}
