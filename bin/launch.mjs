// What the bin/ shims share: run a CLI's TypeScript entry point on a Node that can, from a clone or through
// `npm link`, without a build. On Node >= 24.11 the entry is imported into this process; on an older Node the
// clone's node_modules/.bin/node (installed by npm ci) runs it as a child; with neither, one line says what to
// install (exit 1).

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { currentRuntimeProblem, installedNode, isSupportedNode, repoRoot } from './runtime.mjs';

/** `entry` is relative to the repository, e.g. src/cli/failoverctl.ts; `name` is how the program calls itself. */
export async function launch(entry, name) {
  const file = join(repoRoot, entry);
  if (isSupportedNode(process.versions.node)) {
    const { main } = await import(pathToFileURL(file).href);
    await main(process.argv, { name });
    return;
  }
  const node = installedNode();
  if (node === undefined) {
    process.stderr.write(`error: ${currentRuntimeProblem()}\n`);
    process.exit(1);
  }
  const child = spawn(node, [file, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, FO_PROGRAM_NAME: name },
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 128 : 1);
  });
}
