import { createHash } from 'node:crypto';
import type { Revision } from './api.ts';

/** A pod template as the API server stores it in a Deployment or ReplicaSet. */
export type PodTemplate = {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { containers?: ({ name: string; image?: string } & Record<string, unknown>)[] } & Record<
    string,
    unknown
  >;
};

/** The label the Deployment controller adds to each ReplicaSet's template; it says nothing about the pods. */
export const podTemplateHashLabel = 'pod-template-hash';

/**
 * The revision hash of a pod template: sha256 over its canonical JSON (sorted keys), with the
 * pod-template-hash label left out, so a Deployment's template and its ReplicaSet's template hash alike
 * exactly when the Deployment controller's EqualIgnoreHash says they are equal.
 */
export function templateHash(template: PodTemplate): string {
  const summarised = summaries.get(template);
  if (summarised) return summarised.hash;
  const labels = { ...template.metadata?.labels };
  delete labels[podTemplateHashLabel];
  const normalised = { ...template, metadata: { ...template.metadata, labels } };
  return createHash('sha256').update(canonicalJson(normalised)).digest('hex').slice(0, 10);
}

/** The revision a template stands for: its hash and, for display, the Envoy and shutdown-manager images. */
export function revisionOf(template: PodTemplate): Revision {
  const summarised = summaries.get(template);
  if (summarised) return { ...summarised };
  const image = (name: string) => template.spec?.containers?.find((c) => c.name === name)?.image;
  const revision: Revision = { hash: templateHash(template) };
  const envoyImage = image('envoy');
  const shutdownManagerImage = image('shutdown-manager');
  if (envoyImage) revision.envoyImage = envoyImage;
  if (shutdownManagerImage) revision.shutdownManagerImage = shutdownManagerImage;
  return revision;
}

/** The revisions of the templates `templateSummary` made, which no longer hold what the hash is taken over. */
const summaries = new WeakMap<PodTemplate, Revision>();

/**
 * A small stand-in for a pod template that nothing reads in full (an informer's cached ReplicaSets keep
 * only this; see cache.ts): its labels, annotations and each container's name and image, and, for
 * `revisionOf` and `templateHash`, the revision of the whole template it replaces. Never build a pod from
 * it: the canary is made from EG's Deployment's own template.
 */
export function templateSummary(template: PodTemplate): PodTemplate {
  const summary: PodTemplate = {
    metadata: { labels: template.metadata?.labels, annotations: template.metadata?.annotations },
    spec: { containers: template.spec?.containers?.map(({ name, image }) => ({ name, image })) },
  };
  summaries.set(summary, revisionOf(template));
  return summary;
}

/** The canary ReplicaSet's name: short enough that pod names stay within 63 characters. */
export const canaryName = (deploymentName: string, hash: string): string =>
  `${deploymentName.slice(0, 50)}-c-${hash.slice(0, 5)}`;

/** The blue/green preview Service's name: predictable from EG's Deployment (and Service) name. */
export const previewServiceName = (deploymentName: string): string =>
  `${deploymentName.slice(0, 55)}-preview`;

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
