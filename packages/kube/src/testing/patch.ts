// The patch formats the fake API server accepts: JSON merge patch (RFC 7386, also used for server-side
// apply, which the fake treats as a merge) and JSON patch (RFC 6902).

import { setOwn } from '../mutate.ts';

type Json = unknown;

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC 7386: objects merge key by key, `null` removes a key, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else setOwn(result, key, mergePatch(result[key], value));
  }
  return result;
}

export type JsonPatchOperation = { op: 'add' | 'remove' | 'replace' | 'test'; path: string; value?: Json };

/** RFC 6902's add, remove, replace and test; a failed test or a missing path throws, naming the operation. */
export function applyJsonPatch(document: Json, operations: JsonPatchOperation[]): Json {
  let result = structuredClone(document);
  for (const [index, operation] of operations.entries()) {
    const where = `operation ${index} (${operation.op} ${operation.path})`;
    const tokens = operation.path
      .split('/')
      .slice(1)
      .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (tokens.length === 0) {
      if (operation.op === 'test') {
        if (JSON.stringify(result) !== JSON.stringify(operation.value))
          throw new Error(`${where}: test failed`);
      } else result = structuredClone(operation.value);
      continue;
    }
    const last = tokens.pop() as string;
    let parent: Json = result;
    for (const token of tokens) {
      parent = Array.isArray(parent) ? parent[Number(token)] : isObject(parent) ? parent[token] : undefined;
      if (parent === undefined) throw new Error(`${where}: path does not exist`);
    }
    if (Array.isArray(parent)) {
      const position = last === '-' ? parent.length : Number(last);
      const exists = position < parent.length;
      if (operation.op === 'add') parent.splice(position, 0, structuredClone(operation.value));
      else if (!exists) throw new Error(`${where}: path does not exist`);
      else if (operation.op === 'remove') parent.splice(position, 1);
      else if (operation.op === 'replace') parent[position] = structuredClone(operation.value);
      else if (JSON.stringify(parent[position]) !== JSON.stringify(operation.value))
        throw new Error(`${where}: test failed`);
    } else if (isObject(parent)) {
      const exists = Object.hasOwn(parent, last);
      if (operation.op === 'add') setOwn(parent, last, structuredClone(operation.value));
      else if (!exists) throw new Error(`${where}: path does not exist`);
      else if (operation.op === 'remove') delete parent[last];
      else if (operation.op === 'replace') setOwn(parent, last, structuredClone(operation.value));
      else if (JSON.stringify(parent[last]) !== JSON.stringify(operation.value))
        throw new Error(`${where}: test failed`);
    } else {
      throw new Error(`${where}: path does not exist`);
    }
  }
  return result;
}
