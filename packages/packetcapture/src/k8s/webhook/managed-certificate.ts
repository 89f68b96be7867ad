// The webhook's certificate managed by the webhook itself, for installs without Helm or cert-manager (the
// plain manifests): the serving certificate lives in a Secret that the first replica creates and every replica
// reads, it is renewed in place well before it expires, and its CA is written into the
// ValidatingWebhookConfiguration's caBundle. Antrea's controller does the same with its self-signed certificate.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import {
  builtin,
  isAlreadyExists,
  isConflict,
  isNotFound,
  type KubeObject,
  type KubeRest,
  ResourceClient,
} from '@harbormaster/kube';
import { type ServingCertificate, selfSignedServingCertificate } from './certificates.ts';

export interface ManagedCertificateOptions {
  rest: KubeRest;
  namespace: string;
  secretName: string;
  /** DNS names and IPs the certificate covers (the Service's names). */
  hosts: string[];
  validDays?: number;
  /** A certificate with less time than this left is replaced. */
  renewBeforeDays?: number;
  log?: (line: string) => void;
}

type TlsSecret = KubeObject & { type?: string; data?: Record<string, string> };

const webhookConfigurationType = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingWebhookConfiguration',
  plural: 'validatingwebhookconfigurations',
  namespaced: false,
};

/** Why the certificate in `secret` cannot be served as it is, or undefined when it can. */
function unusable(secret: TlsSecret, hosts: string[], renewBeforeMs: number): string | undefined {
  const decode = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
  try {
    const ca = new X509Certificate(decode('ca.crt'));
    const cert = new X509Certificate(decode('tls.crt'));
    if (!decode('tls.key')) return 'it has no tls.key';
    if (!cert.verify(ca.publicKey)) return 'tls.crt is not signed by ca.crt';
    const missing = hosts.filter((h) => (isIP(h) ? !cert.checkIP(h) : !cert.checkHost(h)));
    if (missing.length > 0) return `it does not cover ${missing.join(', ')}`;
    const left = Math.min(Date.parse(cert.validTo), Date.parse(ca.validTo)) - Date.now();
    if (left < renewBeforeMs) return `it expires in ${Math.max(0, Math.round(left / 86_400_000))} days`;
    return undefined;
  } catch (error) {
    return `it does not parse: ${(error as Error).message}`;
  }
}

/**
 * Returns the serving certificate from the Secret, creating or renewing it first when needed. Replicas that
 * race each other settle on whichever write the API server took first (create conflicts, update on a stale
 * resourceVersion fails), and read that one.
 */
export async function ensureServingCertificate(
  options: ManagedCertificateOptions,
): Promise<ServingCertificate> {
  const secrets = new ResourceClient<TlsSecret>(options.rest, builtin.secret);
  const renewBeforeMs = (options.renewBeforeDays ?? 30) * 86_400_000;
  const where = `Secret ${options.namespace}/${options.secretName}`;
  for (let attempt = 1; attempt <= 5; attempt++) {
    const existing = await secrets.get(options.secretName, options.namespace).catch((error) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    const problem = existing ? unusable(existing, options.hosts, renewBeforeMs) : 'it does not exist';
    if (existing && !problem) {
      const data = existing.data ?? {};
      const decode = (key: string) => Buffer.from(data[key] ?? '', 'base64').toString('utf8');
      return { ca: decode('ca.crt'), cert: decode('tls.crt'), key: decode('tls.key') };
    }
    const made = selfSignedServingCertificate(options.hosts, options.validDays ?? 3650);
    const secret: TlsSecret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: options.secretName,
        namespace: options.namespace,
        labels: { 'app.kubernetes.io/name': 'packetcapture', 'app.kubernetes.io/component': 'webhook' },
        ...(existing ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      },
      type: 'kubernetes.io/tls',
      data: {
        'ca.crt': Buffer.from(made.ca).toString('base64'),
        'tls.crt': Buffer.from(made.cert).toString('base64'),
        'tls.key': Buffer.from(made.key).toString('base64'),
      },
    };
    try {
      await (existing ? secrets.replace(secret) : secrets.create(secret));
      options.log?.(`${existing ? 'renewed' : 'created'} the serving certificate in ${where}: ${problem}`);
      return made;
    } catch (error) {
      // Another replica wrote first: read what it wrote.
      if (!isAlreadyExists(error) && !isConflict(error)) throw error;
    }
  }
  throw new Error(`${where}: kept changing under five attempts to read or write it`);
}

/**
 * Writes `ca` as the caBundle of every webhook in the configuration that lacks it; returns how many changed.
 * The patch is tested against the resourceVersion read, so a concurrent edit makes it fail rather than lose.
 */
export async function injectCaBundle(rest: KubeRest, configurationName: string, ca: string): Promise<number> {
  const configurations = new ResourceClient<
    KubeObject & { webhooks?: { clientConfig?: { caBundle?: string } }[] }
  >(rest, webhookConfigurationType);
  const bundle = Buffer.from(ca).toString('base64');
  for (let attempt = 1; ; attempt++) {
    const configuration = await configurations.get(configurationName);
    const stale = (configuration.webhooks ?? []).flatMap((w, i) =>
      w.clientConfig?.caBundle === bundle ? [] : [i],
    );
    if (stale.length === 0) return 0;
    try {
      await configurations.patch(configurationName, undefined, 'json', [
        { op: 'test', path: '/metadata/resourceVersion', value: configuration.metadata.resourceVersion },
        ...stale.map((i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle })),
      ]);
      return stale.length;
    } catch (error) {
      // A failed `test` is 422 (the configuration changed since it was read): read it again.
      if (attempt >= 5 || !(error instanceof Error && /\b422\b|\b409\b/.test(error.message))) throw error;
    }
  }
}
