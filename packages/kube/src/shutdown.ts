/**
 * An AbortSignal that aborts on SIGTERM or SIGINT, so a controller stops taking work, finishes in-flight
 * reconciles, releases its lease and exits 0 when the kubelet stops the Pod. A second signal exits at once.
 */
export function shutdownSignal(onSignal: (name: string) => void = () => {}): AbortSignal {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    onSignal(name);
    controller.abort();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return controller.signal;
}
