// What the admission webhook decides for one PacketCapture CREATE or UPDATE. The API server's schema has
// already checked shapes, enums and bounds; this adds what a schema cannot know: whether the requester may
// read the file server's credentials (so a capture cannot send the agent's Secret to a server of the
// requester's choosing, Antrea 3006b09d6), that a started capture's spec does not change under the agent,
// and that the filter and the packet fields compile to a program the kernel takes.
import { isDeepStrictEqual } from 'node:util';
import { type CaptureSpecInput, compileFilter, compileSpec } from '@harbormaster/bpf';
import { DEFAULT_SNAP_LENGTH, type Endpoint, type PacketCapture, type PacketCaptureSpec } from '../types.ts';
import { sshPublicKeyProblem } from './ssh-key.ts';

/** The requester as the API server authenticated it (authentication.k8s.io/v1 UserInfo). */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AdmissionRequest {
  uid: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo: UserInfo;
  object?: PacketCapture;
  oldObject?: PacketCapture;
}

export interface Verdict {
  allowed: boolean;
  /** Why it was refused: each problem names the field. */
  message?: string;
  /** Refused because the requester may not read the Secret (HTTP 403), rather than for an invalid spec (422). */
  forbidden?: boolean;
}

/** Answers whether `user` may get the credentials Secret; throws when the review itself failed. */
export type SecretAccessCheck = (user: UserInfo) => Promise<boolean>;

export interface ValidateOptions {
  canReadSecret: SecretAccessCheck;
  /** `<namespace>/<name>` of the credentials Secret, for the message. */
  secretRef: string;
}

export async function validatePacketCapture(
  request: AdmissionRequest,
  options: ValidateOptions,
): Promise<Verdict> {
  const capture = request.object;
  if ((request.operation !== 'CREATE' && request.operation !== 'UPDATE') || !capture)
    return { allowed: true };
  const spec = capture.spec ?? ({} as PacketCaptureSpec);
  const old = request.operation === 'UPDATE' ? request.oldObject : undefined;

  const problems: string[] = [];
  let forbidden = false;
  if (old && hasStarted(old) && !isDeepStrictEqual(old.spec, capture.spec)) {
    return {
      allowed: false,
      message: `spec is immutable once the capture has started (status.conditions has PacketCaptureStarted); changed: ${changedFields(old.spec, capture.spec).join(', ')}`,
    };
  }
  // An update that leaves the spec alone (status, labels, finalizers) is not judged again: the agent and the
  // controller must be able to finish a capture whatever the rules were when it was created.
  if (old && isDeepStrictEqual(old.spec, capture.spec)) return { allowed: true };

  problems.push(...compileProblems(spec));
  const url = spec.fileServer?.url;
  if (url !== undefined) {
    const problem = sftpUrlProblem(url);
    if (problem) problems.push(`spec.fileServer.url: ${problem}`);
  }
  const key = spec.fileServer?.hostPublicKey;
  if (key !== undefined) {
    const problem = sshPublicKeyProblem(key);
    if (problem) problems.push(`spec.fileServer.hostPublicKey ${problem}`);
  }
  if (spec.fileServer && !isDeepStrictEqual(old?.spec?.fileServer, spec.fileServer)) {
    const user = request.userInfo.username ?? '';
    try {
      if (!(await options.canReadSecret(request.userInfo))) {
        forbidden = true;
        problems.push(
          `spec.fileServer: user ${JSON.stringify(user)} is not allowed to get Secret ${options.secretRef}, whose credentials the agent would send to this file server`,
        );
      }
    } catch (error) {
      // Like Antrea, the reason stays in the webhook's log: it can describe the authorization policy.
      problems.push(
        `spec.fileServer: could not check whether user ${JSON.stringify(user)} may get Secret ${options.secretRef}: ${(error as Error).name}`,
      );
    }
  }
  return problems.length === 0
    ? { allowed: true }
    : { allowed: false, message: problems.join('; '), forbidden };
}

/**
 * The CRD's pattern (Antrea's) is not anchored, so `https://x/?sftp://h:22` passes it; the agent needs
 * `sftp://host:port/path` exactly.
 */
export function sftpUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${JSON.stringify(text)} is not a URL; expected sftp://host:port/path`;
  }
  if (url.protocol !== 'sftp:')
    return `scheme ${url.protocol.slice(0, -1)} is not sftp; expected sftp://host:port/path`;
  if (!url.hostname) return `${JSON.stringify(text)} has no host; expected sftp://host:port/path`;
  if (!url.port) return `${JSON.stringify(text)} has no port; expected sftp://host:port/path`;
  if (url.username || url.password) return 'must not carry credentials: they come from the Secret';
  if (url.search || url.hash)
    return `${JSON.stringify(text)} has a query or fragment; expected sftp://host:port/path`;
  return undefined;
}

function hasStarted(capture: PacketCapture): boolean {
  return (capture.status?.conditions ?? []).some((c) => c.type === 'PacketCaptureStarted');
}

/** The dotted paths under `spec` whose values differ, down to the first level that differs. */
function changedFields(before: unknown, after: unknown, path = 'spec'): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    !!v && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(before) || !isObject(after)) return isDeepStrictEqual(before, after) ? [] : [path];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((k) => changedFields(before[k], after[k], `${path}.${k}`));
}

/**
 * The filter compiled with tcpdump's grammar, and the structured fields compiled as the agent will compile
 * them once Pods and Services are resolved (those sides are left out here; IPs and CIDRs are checked).
 */
function compileProblems(spec: PacketCaptureSpec): string[] {
  const problems: string[] = [];
  const snaplen = spec.captureConfig?.snapLength ?? DEFAULT_SNAP_LENGTH;
  if (spec.filter !== undefined) {
    const result = compileFilter(spec.filter, { snaplen });
    if ('error' in result) {
      problems.push(
        `spec.filter: ${result.error.message} (column ${result.error.column} of ${JSON.stringify(spec.filter)})`,
      );
    }
  }
  const address = (endpoint: Endpoint | undefined) => {
    const ip = endpoint?.ip ?? endpoint?.cidr;
    return ip === undefined ? undefined : { ip };
  };
  const input: CaptureSpecInput = {
    source: address(spec.source),
    destination: address(spec.destination),
    direction: spec.direction,
    packet: spec.packet,
    snaplen,
  };
  for (const problem of compileSpec(input).problems) {
    // Our `ip` carries a CIDR too: name the field the user wrote.
    const side = /^(source|destination)\.ip$/.exec(problem.path)?.[1] as 'source' | 'destination' | undefined;
    const field = side && spec[side]?.cidr !== undefined ? `${side}.cidr` : problem.path;
    problems.push(`spec.${field}: ${problem.message}`);
  }
  return problems;
}
