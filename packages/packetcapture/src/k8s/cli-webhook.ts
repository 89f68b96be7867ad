// `packetcapture webhook`: the validating admission webhook for PacketCaptures, served over TLS until
// SIGINT or SIGTERM. In a cluster it takes the certificate mounted from a Secret (--tls-cert-file,
// --tls-private-key-file); without them it makes a CA and a serving certificate at start, and writes the CA
// to --ca-bundle-file for the ValidatingWebhookConfiguration's caBundle.
import { readFileSync, watch } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { KubeRest, loadKubeConfig } from '@harbormaster/kube';
import { type Command, Option } from 'commander';
import type { Io } from '../cli.ts';
import { selfSignedServingCertificate } from './webhook/certificates.ts';
import { startWebhook, VALIDATE_PATH } from './webhook/server.ts';

interface WebhookFlags {
  listen: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsSan: string[];
  caBundleFile?: string;
  kubeconfig?: string;
  secretNamespace: string;
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

function readTls(flags: WebhookFlags): { cert: string; key: string; ca?: string } {
  if (!flags.tlsCertFile !== !flags.tlsPrivateKeyFile) {
    throw new Error('--tls-cert-file and --tls-private-key-file go together');
  }
  if (flags.tlsCertFile && flags.tlsPrivateKeyFile)
    return readTlsFiles(flags.tlsCertFile, flags.tlsPrivateKeyFile);
  const hosts = ['localhost', '127.0.0.1', '::1', ...flags.tlsSan];
  return selfSignedServingCertificate([...new Set(hosts)]);
}

async function runWebhook(flags: WebhookFlags, io: Io): Promise<number> {
  const log = (line: string) => io.stderr.write(`packetcapture webhook: ${line}\n`);
  let listen: { host: string; port: number };
  let tls: { cert: string; key: string; ca?: string };
  let rest: KubeRest;
  try {
    listen = parseListen(flags.listen);
    tls = readTls(flags);
    rest = new KubeRest(loadKubeConfig({ kubeconfig: flags.kubeconfig }), {
      userAgent: 'packetcapture-webhook',
    });
  } catch (error) {
    log((error as Error).message);
    return 2;
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
  const unfollow =
    flags.tlsCertFile && flags.tlsPrivateKeyFile
      ? followTlsFiles(flags.tlsCertFile, flags.tlsPrivateKeyFile, (next) => webhook.setTls(next), log)
      : () => {};
  log(
    `serving https://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${webhook.port}${VALIDATE_PATH}` +
      (tls.ca
        ? ` with a self-signed CA${flags.caBundleFile ? ` written to ${flags.caBundleFile}` : ''}`
        : ''),
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
  unfollow();
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
