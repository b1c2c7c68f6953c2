/**
 * An AbortSignal that aborts on the first termination signal (SIGTERM from the kubelet, SIGINT from a terminal).
 * For the entry point only: the manager itself takes a signal and installs no process handlers.
 */
export function abortOnTermination(
  proc: Pick<NodeJS.Process, 'once' | 'off'> = process,
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handlers = signals.map((name) => {
    const handler = () => controller.abort(new Error(`received ${name}`));
    proc.once(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    dispose() {
      for (const [name, handler] of handlers) proc.off(name, handler);
    },
  };
}
