// What every failoverctl command gets: the terminal, the global flags and a way to reach the cluster. Built once in
// the entry point (src/cli/failoverctl.ts); commands never read process.* themselves.

import type { Command } from 'commander';
import { type OutputFormat, renderStructured } from '../conventions.ts';
import type { PolicyKube } from './kube.ts';

export interface CtlIo {
  out(text: string): void;
  err(text: string): void;
  /** True when stdin is a terminal a person can answer on. */
  isTTY: boolean;
  /** Asks a yes/no question on the terminal; true only for an explicit yes. */
  confirm(question: string): Promise<boolean>;
}

export interface GlobalOptions {
  output: OutputFormat;
  namespace?: string;
  kubeconfig?: string;
  /** --request-timeout, in milliseconds: the deadline of each Kubernetes API call. */
  requestTimeout?: number;
}

export interface CtlDeps {
  io: CtlIo;
  /** Connects with the user's kubeconfig (--kubeconfig, else $KUBECONFIG or ~/.kube/config). */
  kube(opts: GlobalOptions): PolicyKube | Promise<PolicyKube>;
  now(): number;
  /** A short random lowercase hex string, for request ids and drill names. */
  randomSuffix(): string;
  /** How the program calls itself in help and completion: failoverctl, or "kubectl failover" as a plugin. */
  programName?: string;
  /** FO_DEBUG=1: print the stack trace of an unexpected error (otherwise one line). */
  debug?: boolean;
  /** Waits between polls (plan --now); default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** Prints a value as -o json or -o yaml asked. */
export function printStructured(io: CtlIo, format: 'json' | 'yaml', value: unknown): void {
  io.out(renderStructured(format, value));
}
