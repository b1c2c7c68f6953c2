// vitest globalSetup for the `integration` project: brings a test bed up once per run and stops it at the end.
//
// Several engineers run integration tests at once in one checkout, and moto has one global state that every
// test file resets. So a run gets the shared test bed (.testbed/) only if no other live run holds it; otherwise
// it gets a private one under .testbed/runs/<pid>/ (own ports, own etcd and moto; ~10 s more to start).
//
// FO_TESTBED_KEEP=1 leaves the shared bed running for a fast edit-test loop (the next run finds it up in well
// under a second). A shared bed started by hand (bash test/env/up.sh) is never stopped by a test run.
// FO_TESTBED_DIR moves the shared bed elsewhere.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  interface ProvidedContext {
    testbedStatePath: string;
  }
}

const envDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(envDir, '../..');

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs a test bed script; its output is shown only on failure, apart from progress on one-off builds. */
function runScript(script: string, args: string[], dir: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(envDir, script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FO_TESTBED_DIR: dir },
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      // Builds and installs take minutes the first time; say so instead of looking stuck.
      for (const line of text.split('\n')) {
        if (/\b(building|installing)\b/.test(line)) process.stderr.write(`${line}\n`);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Takes the shared bed for this run: an exclusive claim file holding our pid; a dead holder's claim is void. */
function claimShared(dir: string): { claimed: true } | { claimed: false; holder: number } {
  mkdirSync(dir, { recursive: true });
  const claim = path.join(dir, 'claim');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(claim, `${process.pid}\n`, { flag: 'wx' });
      return { claimed: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(claim, 'utf8').trim());
    if (isRunning(holder)) return { claimed: false, holder };
    rmSync(claim, { force: true });
  }
  return { claimed: false, holder: Number.NaN };
}

/** Stops and removes private beds whose run died without its teardown (killed, crashed). */
async function pruneDeadRuns(sharedDir: string): Promise<void> {
  const runs = path.join(sharedDir, 'runs');
  if (!existsSync(runs)) return;
  for (const name of readdirSync(runs)) {
    if (isRunning(Number(name))) continue;
    const dir = path.join(runs, name);
    if (existsSync(path.join(dir, 'state.env'))) await runScript('down.sh', [], dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const sharedDir = path.resolve(process.env.FO_TESTBED_DIR ?? path.join(repoRoot, '.testbed'));
  await pruneDeadRuns(sharedDir);
  const claim = claimShared(sharedDir);
  const dir = claim.claimed ? sharedDir : path.join(sharedDir, 'runs', String(process.pid));
  if (!claim.claimed) {
    process.stderr.write(
      `test bed: another test run (pid ${claim.holder}) holds ${sharedDir}; this run gets its own in ${dir}\n`,
    );
  }
  const release = () => {
    if (claim.claimed) rmSync(path.join(sharedDir, 'claim'), { force: true });
  };

  const up = await runScript('up.sh', ['--auto-stop'], dir);
  if (up.code !== 0) {
    release();
    const tail = up.output.trimEnd().split('\n').slice(-60).join('\n');
    throw new Error(`test/env/up.sh failed (exit ${up.code}):\n${tail}`);
  }
  process.stderr.write(`${up.output.trimEnd().split('\n').at(-1) ?? ''}\n`);

  const statePath = path.join(dir, 'state.json');
  // Test workers are forked after global setup and inherit this; testbed() reads it.
  process.env.FO_TESTBED_STATE = statePath;
  project.provide('testbedStatePath', statePath);

  return async () => {
    try {
      if (claim.claimed && process.env.FO_TESTBED_KEEP === '1') {
        process.stderr.write('test bed: kept running (FO_TESTBED_KEEP=1); stop it with bash test/env/down.sh\n');
        return;
      }
      // The shared bed is stopped only if a test run started it; a private one always.
      const down = await runScript('down.sh', claim.claimed ? ['--if-auto-started'] : [], dir);
      process.stderr.write(down.output);
      if (down.code !== 0) throw new Error(`test/env/down.sh failed (exit ${down.code})`);
      // A private bed's folder (its logs) stays for a post-mortem; the next run's pruneDeadRuns removes it.
    } finally {
      release();
    }
  };
}
