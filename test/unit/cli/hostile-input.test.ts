// Hostile files through the real CLI binaries, spawned as a person would run them: one clear message, no stack
// trace, and the exit code of an input error (failoverctl validate: 1, as for any invalid file; failover-operator
// simulate: 2, a usage error).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const run = (cli: string, ...args: string[]) =>
  spawnSync(process.execPath, [`src/cli/${cli}.ts`, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, FO_DEBUG: '' },
  });
const STACK_FRAME = /\n\s+at .+[:(]\d+/;

const dir = mkdtempSync(join(tmpdir(), 'fo-hostile-'));
function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('hostile files through the CLIs', () => {
  it('failoverctl validate: an alias bomb and garbage are refused per document, the valid one still reported', () => {
    const bomb = [
      'apiVersion: failover.io/v1alpha1',
      'kind: FailoverPolicy',
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...[1, 2, 3, 4, 5].map(
        (i) =>
          `l${i}: &l${i} [${Array(9)
            .fill(i === 1 ? '*a' : `*l${i - 1}`)
            .join(', ')}]`,
      ),
    ].join('\n');
    const web = readFileSync('examples/single-region-web.yaml', 'utf8');
    const hostile = file('hostile.yaml', `${bomb}\n---\n${web}`);
    const garbage = file('garbage.yaml', Buffer.from([0x7b, 0x5b, 0xff, 0xfe, 0x00, 0x3a, 0x0a, 0x2d, 0x20, 0x26]));
    const r = run('failoverctl', 'validate', hostile, garbage);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `${hostile}:1: (document): document 1 of ${hostile}: its aliases expand to too many nodes`,
    );
    expect(r.stderr).toContain(`${hostile}: FailoverPolicy web is valid`); // with the file's other messages
    expect(r.stderr).toContain(`${garbage}:`);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(STACK_FRAME);
  });

  it('failover-operator simulate: a scenario zone the simulated cloud lacks, and an endless duration, exit 2', () => {
    const elsewhere = file(
      'elsewhere.yaml',
      'name: t\nevents:\n  - at: 1\n    effects: [{zone: eu-west-9z, endpoints: down}]\n',
    );
    const r = run('failover-operator', 'simulate', 'examples/single-region-web.yaml', '--scenario', elsewhere);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('events[0].effects[0].zone: zone eu-west-9z is not in the simulated cloud');
    expect(r.stderr).not.toMatch(STACK_FRAME);

    const endless = file(
      'endless.yaml',
      'name: t\ndurationMinutes: 1e12\nevents:\n  - {at: 1, effects: [{zone: us-east-1a, endpoints: down}]}\n',
    );
    const e = run('failover-operator', 'simulate', 'examples/single-region-web.yaml', '--scenario', endless);
    expect(e.status).toBe(2);
    expect(e.stderr).toContain('durationMinutes');
    expect(e.stderr).toContain('at most 10080 (a week)');
    expect(e.stderr).not.toMatch(STACK_FRAME);
  });
});
