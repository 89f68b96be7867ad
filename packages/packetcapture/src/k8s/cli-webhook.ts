// `packetcapture webhook`: the validating admission webhook for PacketCaptures, served over TLS until
// SIGINT or SIGTERM. Its certificate comes from one of three places: files mounted from a Secret that Helm or
// cert-manager made (--tls-cert-file, --tls-private-key-file, followed as they are renewed); a Secret it keeps
// itself, shared by its replicas (--certificate-secret, for the plain manifests); or a CA made at start
// (development), written to --ca-bundle-file. With a certificate it made, --webhook-configuration writes the
// CA into the ValidatingWebhookConfiguration's caBundle.
import { readFileSync, watch } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { KubeRest, loadKubeConfig } from '@harbormaster/kube';
import { type Command, Option } from 'commander';
import type { Io } from '../cli.ts';
import { selfSignedServingCertificate } from './webhook/certificates.ts';
import { ensureServingCertificate, injectCaBundle } from './webhook/managed-certificate.ts';
import { startWebhook, VALIDATE_PATH } from './webhook/server.ts';

interface WebhookFlags {
  listen: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsSan: string[];
  caBundleFile?: string;
  kubeconfig?: string;
  secretNamespace: string;
  certificateSecret?: string;
  certificateNamespace: string;
  certificateCheckInterval: string;
  webhookConfiguration?: string;
}

/** `30s`, `10m`, `1h` → milliseconds; throws naming the flag. */
export function parseInterval(flag: string, text: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(text);
  const ms = m ? Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'] : 0;
  if (ms < 1000) throw new Error(`${flag}: "${text}" is not a duration such as 30s, 10m or 1h (at least 1s)`);
  return ms;
}

/** `host:port`, `[v6]:port` or `:port`; throws a message naming the flag. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2] ?? '';
  const port = Number(m?.[3]);
  if (!m || port > 65535 || (host !== '' && m[1] !== undefined && isIP(host) !== 6)) {
    throw new Error(`--listen: "${text}" is not host:port, [IPv6]:port or :port`);
  }
  return { host: host || '0.0.0.0', port };
}

function readTlsFiles(certFile: string, keyFile: string): { cert: string; key: string } {
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(
        `${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  };
  const tls = { cert: read('--tls-cert-file', certFile), key: read('--tls-private-key-file', keyFile) };
  try {
    createSecureContext(tls);
  } catch (error) {
    throw new Error(
      `--tls-cert-file ${certFile} with --tls-private-key-file ${keyFile}: ${(error as Error).message}`,
    );
  }
  return tls;
}

/**
 * Follows the certificate files as a mounted Secret changes (the kubelet swaps a `..data` symlink in the
 * directory; cert-manager renews): a pair that loads replaces the served one, a half-written pair is skipped
 * until the next change.
 */
function followTlsFiles(
  certFile: string,
  keyFile: string,
  apply: (tls: { cert: string; key: string }) => void,
  log: (line: string) => void,
) {
  let timer: NodeJS.Timeout | undefined;
  const watchers = [...new Set([dirname(certFile), dirname(keyFile)])].map((dir) =>
    watch(dir, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          apply(readTlsFiles(certFile, keyFile));
          log(`reloaded the serving certificate from ${certFile}`);
        } catch (error) {
          log(`kept the serving certificate: ${(error as Error).message}`);
        }
      }, 200);
    }),
  );
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}

function readTls(flags: WebhookFlags): { cert: string; key: string } {
  if (!flags.tlsCertFile || !flags.tlsPrivateKeyFile) {
    throw new Error('--tls-cert-file and --tls-private-key-file go together');
  }
  return readTlsFiles(flags.tlsCertFile, flags.tlsPrivateKeyFile);
}

async function runWebhook(flags: WebhookFlags, io: Io): Promise<number> {
  const log = (line: string) => io.stderr.write(`packetcapture webhook: ${line}\n`);
  let listen: { host: string; port: number };
  let rest: KubeRest;
  let checkEveryMs: number;
  const files = flags.tlsCertFile !== undefined || flags.tlsPrivateKeyFile !== undefined;
  const hosts = [...new Set(['localhost', '127.0.0.1', '::1', ...flags.tlsSan])];
  try {
    listen = parseListen(flags.listen);
    checkEveryMs = parseInterval('--certificate-check-interval', flags.certificateCheckInterval);
    if (files && flags.certificateSecret) {
      throw new Error(
        '--certificate-secret and --tls-cert-file are two ways to get the certificate: give one',
      );
    }
    if (files && flags.webhookConfiguration) {
      throw new Error('--webhook-configuration needs a certificate the webhook made (not --tls-cert-file)');
    }
    rest = new KubeRest(loadKubeConfig({ kubeconfig: flags.kubeconfig }), {
      userAgent: 'packetcapture-webhook',
    });
  } catch (error) {
    log((error as Error).message);
    return 2;
  }
  const managed = flags.certificateSecret
    ? { rest, namespace: flags.certificateNamespace, secretName: flags.certificateSecret, hosts, log }
    : undefined;
  let tls: { cert: string; key: string; ca?: string };
  try {
    tls = managed
      ? await ensureServingCertificate(managed)
      : files
        ? readTls(flags)
        : selfSignedServingCertificate(hosts);
  } catch (error) {
    log((error as Error).message);
    return files ? 2 : 1;
  }
  if (tls.ca && flags.caBundleFile) {
    const temporary = `${flags.caBundleFile}.${process.pid}.tmp`;
    await writeFile(temporary, tls.ca);
    await rename(temporary, flags.caBundleFile);
  }
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  try {
    webhook = await startWebhook({ rest, tls, secretNamespace: flags.secretNamespace, ...listen, log });
  } catch (error) {
    log(`cannot listen on ${flags.listen}: ${(error as Error).message}`);
    return 1;
  }
  const inject = async (ca: string | undefined) => {
    if (!ca || !flags.webhookConfiguration) return;
    const changed = await injectCaBundle(rest, flags.webhookConfiguration, ca);
    if (changed > 0)
      log(
        `wrote the caBundle of ${changed} webhook(s) in ValidatingWebhookConfiguration ${flags.webhookConfiguration}`,
      );
  };
  // The configuration may not exist yet (applied after this Pod started): say so and try again each check.
  const injectOrSay = (ca: string | undefined) =>
    inject(ca).catch((error: Error) =>
      log(`cannot write the caBundle of ${flags.webhookConfiguration} yet: ${error.message}`),
    );
  await injectOrSay(tls.ca);
  const stops: (() => void)[] = [];
  if (flags.tlsCertFile && flags.tlsPrivateKeyFile) {
    stops.push(
      followTlsFiles(flags.tlsCertFile, flags.tlsPrivateKeyFile, (next) => webhook.setTls(next), log),
    );
  }
  if (managed || flags.webhookConfiguration) {
    let current: { cert: string; key: string; ca?: string } = tls;
    let timer: NodeJS.Timeout;
    let stopped = false;
    // One check at a time: the next is scheduled when this one is done.
    const check = async () => {
      if (managed) {
        try {
          const stored = await ensureServingCertificate(managed);
          if (stored.cert !== current.cert) {
            webhook.setTls(stored);
            log(`serving the certificate now in Secret ${managed.namespace}/${managed.secretName}`);
          }
          current = stored;
        } catch (error) {
          log(`checking the managed certificate: ${(error as Error).message}`);
        }
      }
      await injectOrSay(current.ca);
      if (!stopped) timer = setTimeout(check, checkEveryMs);
    };
    timer = setTimeout(check, checkEveryMs);
    stops.push(() => {
      stopped = true;
      clearTimeout(timer);
    });
  }
  const source = managed
    ? ` with the certificate in Secret ${managed.namespace}/${managed.secretName}`
    : tls.ca
      ? ` with a self-signed CA${flags.caBundleFile ? ` written to ${flags.caBundleFile}` : ''}`
      : '';
  log(
    `serving https://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${webhook.port}${VALIDATE_PATH}${source}`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  for (const stop of stops) stop();
  await webhook.close();
  log('stopped');
  return 0;
}

/** Adds `webhook` to the `packetcapture` command line; `setExit` receives its exit code. */
export function addWebhookCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('webhook')
    .description('serve the validating admission webhook for PacketCaptures over TLS')
    .option('--listen <host:port>', 'address to serve on', '0.0.0.0:9443')
    .option(
      '--tls-cert-file <file>',
      'serving certificate (PEM); without it a self-signed CA signs one at start',
    )
    .option('--tls-private-key-file <file>', 'private key of --tls-cert-file (PEM)')
    .option(
      '--tls-san <name>',
      'a DNS name or IP the generated certificate also covers (repeatable)',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option('--ca-bundle-file <file>', 'write the generated CA here (PEM), for the caBundle')
    .option(
      '--certificate-secret <name>',
      'keep the certificate in this kubernetes.io/tls Secret: created by the first replica, shared, renewed',
    )
    .option('--certificate-namespace <namespace>', 'namespace of --certificate-secret', 'kube-system')
    .option(
      '--certificate-check-interval <duration>',
      'how often to re-read --certificate-secret (renewed by another replica, due) and the caBundle',
      '10m',
    )
    .option(
      '--webhook-configuration <name>',
      'write the CA into the caBundle of this ValidatingWebhookConfiguration (with a certificate it made)',
    )
    .option(
      '--kubeconfig <file>',
      'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the in-cluster account)',
    )
    .addOption(
      new Option(
        '--secret-namespace <namespace>',
        "namespace of the agent's packetcapture-fileserver-auth Secret",
      ).default('kube-system'),
    )
    .action(async (flags: WebhookFlags) => setExit(await runWebhook(flags, io)));
}
