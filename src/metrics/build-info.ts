// Which build of the operator runs, for failover_operator_build_info: the version is package.json's (the image
// ships it beside dist/, and the chart's appVersion and default image tag equal it), the revision is the image's
// build argument REVISION (the Dockerfile sets FO_BUILD_REVISION from it), the Node version is the running one's.

import { readFileSync } from 'node:fs';
import type { BuildInfo } from './operator-metrics.ts';

/** Reads the build's identity; called from the entry point only (env is the process's). */
export function readBuildInfo(env: NodeJS.ProcessEnv): BuildInfo {
  // src/metrics/build-info.ts and dist/metrics/build-info.js both sit two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const revision = env.FO_BUILD_REVISION?.trim();
  return { version: pkg.version, ...(revision ? { revision } : {}), nodeVersion: process.version };
}
