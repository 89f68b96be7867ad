import { type CustomResourceDefinition, installCrds, type KubeRest, readCrdFiles } from '@harbormaster/kube';

/** The package's CRD manifests (config/crd), in the order they should be applied. */
export const crdFiles = [
  'proxyrollouts',
  'proxyanalysistemplates',
  'clusterproxyanalysistemplates',
  'proxyfleetrollouts',
].map((name) => new URL(`../config/crd/${name}.yaml`, import.meta.url).pathname);

export const readCrds = (): Promise<CustomResourceDefinition[]> => readCrdFiles(crdFiles);

/** Installs (server-side applies) the CRDs and waits until the API server serves them. */
export async function installOurCrds(rest: KubeRest): Promise<void> {
  await installCrds(rest, await readCrds(), { fieldManager: 'proxy-rollouts' });
}
