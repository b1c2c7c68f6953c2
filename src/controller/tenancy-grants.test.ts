import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { applyPolicyDefaults } from '../api/index.ts';
import { loadExample } from '../api/testdata/invalid-cases.ts';
import { createGrantsFile, readGrants } from './tenancy-grants.ts';

const logger = pino({ level: 'silent' });
const policy = applyPolicyDefaults(loadExample('single-region-web'));

const GRANTS = `
team-web:
  route53:
    - hostedZoneId: Z0123456789ABCDEFGHIJ
      recordNames: ["www.example.com."]
  launchTemplates:
    - launchTemplateId: lt-0abc1234def567890
`;

/** A file the test edits: each write is a new inode, as the kubelet's symlink swap makes it. */
function fakeFile(initial: string | undefined) {
  let text = initial;
  let ino = 1;
  return {
    write(next: string | undefined) {
      text = next;
      ino += 1;
    },
    fs: {
      stat: () => {
        if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        return { ino, size: text.length, mtimeMs: 1000 };
      },
      read: () => {
        if (text === undefined) throw new Error('ENOENT');
        return text;
      },
    },
  };
}

describe('createGrantsFile', () => {
  it('reads the grants at once and checks policies against them', () => {
    const file = fakeFile(GRANTS);
    const grants = createGrantsFile({ path: '/g/grants.yaml', logger, fs: file.fs });
    expect(grants.violations('team-web', policy)).toEqual([]);
    expect(grants.violations('team-other', policy).map((v) => v.field)).toEqual([
      'spec.traffic.route53.hostedZoneId',
      'spec.compute.ec2.replaceInHealthyZones.launchTemplate',
    ]);
    expect(grants.problem()).toBeUndefined();
  });

  it('re-reads only when the file changed, and the Runnable tells when the grants did', async () => {
    vi.useFakeTimers();
    try {
      const file = fakeFile('{}');
      const onChange = vi.fn();
      const grants = createGrantsFile({ path: '/g/grants.yaml', logger, fs: file.fs, onChange, pollMs: 1000 });
      const stop = new AbortController();
      const running = grants.run(stop.signal);
      expect(grants.violations('team-web', policy)).not.toEqual([]);
      await vi.advanceTimersByTimeAsync(3000);
      expect(onChange).not.toHaveBeenCalled();
      file.write(GRANTS);
      await vi.advanceTimersByTimeAsync(1000);
      expect(onChange).toHaveBeenCalledTimes(1);
      expect(grants.violations('team-web', policy)).toEqual([]);
      stop.abort();
      await running;
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the last good grants when the file turns bad, and says so until it is fixed', () => {
    const file = fakeFile(GRANTS);
    const grants = createGrantsFile({ path: '/g/grants.yaml', logger, fs: file.fs });
    file.write('team-web:\n  route53:\n    - hostedZoneId: Z0123456789ABCDEFGHIJ\n      recordName: [x.]\n');
    expect(grants.refresh()).toBe(true);
    expect(grants.violations('team-web', policy)).toEqual([]); // still the last good grants
    expect(grants.problem()).toMatch(
      /^the grants file \/g\/grants.yaml is invalid \(.*unknown field "recordName".*\); the last good grants stay in force$/,
    );
    file.write(GRANTS);
    expect(grants.refresh()).toBe(true);
    expect(grants.problem()).toBeUndefined();
  });

  it('a bad file at start grants nothing (there are no last good grants)', () => {
    const grants = createGrantsFile({ path: '/g/grants.yaml', logger, fs: fakeFile('team-web: [').fs });
    expect(grants.violations('team-web', policy)).not.toEqual([]);
    expect(grants.problem()).toMatch(/is invalid \(not YAML: /);
  });

  it('a missing file grants nothing', () => {
    const file = fakeFile(GRANTS);
    const grants = createGrantsFile({ path: '/g/grants.yaml', logger, fs: file.fs });
    file.write(undefined);
    expect(grants.refresh()).toBe(true);
    expect(grants.refresh()).toBe(false);
    expect(grants.violations('team-web', policy)).not.toEqual([]);
    expect(grants.problem()).toBe('the grants file /g/grants.yaml does not exist, so no namespace is granted anything');
  });
});

describe('readGrants', () => {
  it('accepts the YAML the chart renders, including an empty map', () => {
    expect(readGrants(() => '{}\n')).toEqual({ ok: true, grants: {} });
    expect(readGrants(() => GRANTS).ok).toBe(true);
  });

  it('reports an unreadable file and bad YAML in one line each', () => {
    expect(
      readGrants(() => {
        throw new Error('EACCES: permission denied');
      }),
    ).toEqual({ ok: false, errors: ['cannot be read: EACCES: permission denied'] });
    const bad = readGrants(() => 'a: [');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors).toEqual([expect.stringMatching(/^not YAML: [^\n]+$/)]);
  });
});
