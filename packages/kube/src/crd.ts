import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { type Condition, findCondition } from './conditions.ts';
import type { KubeObject } from './objects.ts';
import { builtin, ResourceClient } from './resources.ts';
import type { KubeRest } from './rest.ts';
import { sleep } from './sleep.ts';

export type CustomResourceDefinition = KubeObject & {
  spec: { group: string; names: { kind: string; plural: string } };
  status?: { conditions?: Condition[] };
};

/** Reads the CustomResourceDefinitions in multi-document YAML files, naming the file of any bad document. */
export async function readCrdFiles(paths: string[]): Promise<CustomResourceDefinition[]> {
  const crds: CustomResourceDefinition[] = [];
  for (const path of paths) {
    for (const document of parseAllDocuments(await readFile(path, 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]?.message}`);
      const object = document.toJS() as CustomResourceDefinition | null;
      if (!object) continue;
      if (object.kind !== 'CustomResourceDefinition') {
        throw new Error(`${path}: expected kind CustomResourceDefinition, found ${object.kind ?? 'no kind'}`);
      }
      crds.push(object);
    }
  }
  return crds;
}

/**
 * Installs CRDs with server-side apply and waits until the API server serves each one (Established and
 * NamesAccepted), so the caller can create resources of those kinds right away.
 */
export async function installCrds(
  rest: KubeRest,
  crds: CustomResourceDefinition[],
  options: { fieldManager: string; timeoutMs?: number },
): Promise<void> {
  const client = new ResourceClient<CustomResourceDefinition>(rest, builtin.customResourceDefinition);
  for (const crd of crds) await client.apply(crd, { fieldManager: options.fieldManager, force: true });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (const crd of crds) {
    const name = crd.metadata.name ?? '';
    for (;;) {
      const conditions = (await client.get(name)).status?.conditions;
      const established = findCondition(conditions, 'Established');
      if (established?.status === 'True' && findCondition(conditions, 'NamesAccepted')?.status === 'True')
        break;
      if (Date.now() > deadline) {
        throw new Error(
          `CRD ${name} not established: ${established?.reason ?? 'no status'} ${established?.message ?? ''}`,
        );
      }
      await sleep(100);
    }
  }
}
