// The operator's side of tenancy (#15): the grants it holds policies to, read from the file the chart mounts (a
// ConfigMap, FO_TENANCY_GRANTS_FILE), and the one question the reconcilers ask before any AWS call: which resources
// does this policy name that its namespace is not granted? The check itself is pure (src/api/tenancy.ts).
//
// The file is re-read when it changes: the kubelet updates a mounted ConfigMap in place by swapping a symlink, so
// its inode, size or mtime changes. A file that does not parse keeps the last good grants in force (an admin's typo
// must not release every policy, nor stop every one) and says so in the log and in every NotPermitted message; a
// missing file grants nothing.

import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { FailoverPolicy } from '../api/index.ts';
import { type GrantViolation, parseGrants, policyGrantViolations, type TenancyGrants } from '../api/tenancy.ts';
import type { Runnable } from '../runtime/index.ts';

/** What the reconcilers ask. */
export interface Tenancy {
  /** The resources `policy` names that `namespace` is not granted; empty when permitted (always, when unrestricted). */
  violations(namespace: string, policy: Pick<FailoverPolicy, 'spec'>): GrantViolation[];
  /** Why the grants in force may not be the file's (it does not parse, or is missing), for NotPermitted messages. */
  problem(): string | undefined;
}

/** FO_TENANCY=Unrestricted: every namespace may drive every resource (the operator's behaviour before #15). */
export const unrestrictedTenancy: Tenancy = { violations: () => [], problem: () => undefined };

/** How often the grants file is checked for a change; a mounted ConfigMap itself takes up to a minute or so. */
export const GRANTS_POLL_MS = 10_000;

export interface GrantsFileDeps {
  path: string;
  logger: Logger;
  /** Called after the grants in force changed, so every policy is looked at again. */
  onChange?: () => void;
  pollMs?: number;
  /** For tests. */
  fs?: { stat(path: string): { ino: number; size: number; mtimeMs: number }; read(path: string): string };
}

/** Grants from a file: read once now, then re-read by the returned Runnable whenever the file changes. */
export function createGrantsFile(deps: GrantsFileDeps): Tenancy & Runnable & { refresh(): boolean } {
  const fs = deps.fs ?? { stat: statSync, read: (p: string) => readFileSync(p, 'utf8') };
  const logger = deps.logger.child({ component: 'tenancy-grants', file: deps.path });
  let grants: TenancyGrants = {};
  let version: string | undefined; // identity of the file last read; 'missing' when it was absent
  let problem: string | undefined;

  /** Re-reads the file if it changed; true when the grants in force (or their problem) changed. */
  function refresh(): boolean {
    let stat: { ino: number; size: number; mtimeMs: number };
    try {
      stat = fs.stat(deps.path);
    } catch {
      if (version === 'missing') return false;
      version = 'missing';
      grants = {};
      problem = `the grants file ${deps.path} does not exist, so no namespace is granted anything`;
      logger.warn('Grants file is missing; granted nothing to any namespace');
      return true;
    }
    const seen = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    if (seen === version) return false;
    version = seen;
    const parsed = readGrants(() => fs.read(deps.path));
    if (!parsed.ok) {
      problem = `the grants file ${deps.path} is invalid (${parsed.errors.join('; ')}); the last good grants stay in force`;
      logger.error({ errors: parsed.errors }, 'Rejected grants file; kept the last good grants');
      return true;
    }
    grants = parsed.grants;
    problem = undefined;
    logger.info({ namespaces: Object.keys(grants).length }, 'Loaded tenancy grants');
    return true;
  }

  refresh();
  return {
    violations: (namespace, policy) => policyGrantViolations(policy, namespace, grants),
    problem: () => problem,
    refresh,
    name: 'tenancy-grants',
    needLeaderElection: false,
    async run(signal) {
      const timer = setInterval(() => {
        if (refresh()) deps.onChange?.();
      }, deps.pollMs ?? GRANTS_POLL_MS);
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      clearInterval(timer);
    },
  };
}

/** Parses a grants document's text: YAML (or JSON) of namespace → grant, as the chart's ConfigMap holds it. */
export function readGrants(read: () => string): ReturnType<typeof parseGrants> {
  let text: string;
  try {
    text = read();
  } catch (err) {
    return { ok: false, errors: [`cannot be read: ${(err as Error).message}`] };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, errors: [`not YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  return parseGrants(doc);
}
