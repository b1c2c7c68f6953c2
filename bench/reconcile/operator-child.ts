// The REAL operator as a child process (`node src/cli/failover-operator.ts run`) with the environment the
// integration fixture builds (operatorEnv: test bed kubeconfig, AWS endpoint = the fault proxy, metrics on a free
// port, watch and Lease confined to the bench namespace). Log lines are parsed as they arrive and only what the
// bench measures is kept, so 1,000 policies' worth of logs does not grow the bench's own memory.
//
// The operator logs at debug here: `completed AWS call` (write, policy, latency) is how a Route 53 write is
// attributed to the policy that made it when many policies share a hosted zone.

import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { parseExposition, type Sample } from '../../src/metrics/parse-exposition.ts';
import { type LogLine, OperatorProcess } from '../../test/integration/support/operator-fixture.ts';
import type { OperatorWrite } from './measure.ts';

export interface Transition {
  policy: string;
  scope: string;
  name: string;
  from: string;
  to: string;
  at: number;
}

export class OperatorChild {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly transitions: Transition[] = [];
  readonly writes: OperatorWrite[] = [];
  /** Executor trail lines (`PB-n performed|failed|skipped …`), for the report's examples. */
  readonly actions: Array<{ policy: string; at: number; msg: string }> = [];
  readonly errorLines: string[] = [];
  errorCount = 0;
  warnCount = 0;
  reconcileFailures = 0;
  metricsPort: number | undefined;
  readonly #process: OperatorProcess;
  /** FO_BENCH_OPERATOR_LOG=file: every log line also goes there (for reading a run's timeline afterwards). */
  readonly #logFile: WriteStream | undefined;

  constructor(ns: string, podName: string) {
    const logPath = process.env.FO_BENCH_OPERATOR_LOG;
    this.#logFile = logPath ? createWriteStream(logPath) : undefined;
    // Only what the bench measures is kept: the shared fixture keeps just a bounded tail of raw lines.
    this.#process = new OperatorProcess(ns, podName, {
      logLevel: 'debug',
      keepLines: false,
      onLine: (line) => {
        this.#logFile?.write(`${JSON.stringify(line)}\n`);
        this.#take(line);
      },
    });
    this.child = this.#process.child;
    this.exited = this.#process.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  #take(l: LogLine): void {
    const time = Date.parse(String(l.time)); // ISO 8601
    if (l.level === 'error' || l.level === 'fatal') {
      this.errorCount++;
      if (this.errorLines.length < 20) this.errorLines.push(JSON.stringify(l).slice(0, 600));
    } else if (l.level === 'warn') this.warnCount++;
    if (l.msg === 'Reconcile failed; requeued with backoff') this.reconcileFailures++;
    if (l.msg === 'Started metrics server (plain HTTP)' && typeof l.port === 'number') this.metricsPort = l.port;
    if ((l.msg === 'completed AWS call' || l.msg === 'AWS call failed') && l.write === true) {
      this.writes.push({
        policy: String(l.policy ?? ''),
        operation: String(l.operation ?? ''),
        at: time,
        latencyMs: typeof l.latencyMs === 'number' ? l.latencyMs : 0,
        ...(typeof l.batchedPolicies === 'number' && {
          batch: `${String(l.changeId)}|${String(l.latencyMs)}|${l.batchedPolicies}|${String(l.attempt)}`,
        }),
      });
    }
    if (typeof l.policy === 'string' && typeof l.from === 'string' && typeof l.to === 'string' && l.scope) {
      this.transitions.push({
        policy: l.policy,
        scope: String(l.scope),
        name: String(l.name),
        from: l.from,
        to: l.to,
        at: time,
      });
    }
    if (/^PB-\d+ (performed|failed|skipped) /.test(l.msg) && typeof l.policy === 'string') {
      this.actions.push({ policy: l.policy, at: time, msg: l.msg });
    }
  }

  async scrape(): Promise<Sample[]> {
    if (this.metricsPort === undefined) throw new Error('the operator has not logged its metrics port yet');
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
    return parseExposition(await res.text());
  }

  /** Resident set size from /proc (no load on the operator), bytes; undefined once it has exited. */
  rssBytes(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    } catch {
      return undefined;
    }
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running()) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.#logFile?.end();
  }

  tail(n = 30): string {
    return this.#process.tail(n);
  }
}
