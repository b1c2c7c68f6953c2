// failoverctl's error for the person at the terminal, apart from the Kubernetes client (kube.ts) so that commands
// that never talk to a cluster (validate, scenarios, plan from a file, completion) do not load it.

/** An error meant for the person at the terminal: one line, and the exit code that goes with it. */
export class CtlError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CtlError';
    this.exitCode = exitCode;
  }
}
