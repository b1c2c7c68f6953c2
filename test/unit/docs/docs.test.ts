// The user-facing documents point only at files and sections that exist, the README installs into the namespace
// the chart's README uses, and the LICENSE is the license package.json declares.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DOCUMENTS = [
  'README.md',
  'CHANGELOG.md',
  'charts/failover-operator/README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's heading anchor: lower case, punctuation dropped (hyphens kept), spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchor(m[1]!)));
}

/** Relative links `[text](target)` outside code blocks. */
function linksOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
}

describe('documentation', () => {
  it.each(DOCUMENTS)('%s links only to files and headings that exist', (file) => {
    const broken: string[] = [];
    for (const link of linksOf(file)) {
      const [path, hash] = link.split('#') as [string, string | undefined];
      const target = path === '' ? file : join(dirname(file), path);
      if (!existsSync(target)) broken.push(`${link} (no file ${target})`);
      else if (hash !== undefined && target.endsWith('.md') && !anchorsOf(target).has(hash))
        broken.push(`${link} (no heading #${hash} in ${target})`);
    }
    expect(broken).toEqual([]);
  });

  it('the README links the runbook, the troubleshooting page, the changelog and the license', () => {
    const links = linksOf('README.md');
    for (const doc of ['docs/runbook.md', 'docs/troubleshooting.md', 'CHANGELOG.md', 'LICENSE']) {
      expect(links).toContain(doc);
    }
  });

  it('the README installs the chart into the namespace the chart README uses', () => {
    const namespaces = (file: string) =>
      new Set(
        [...readFileSync(file, 'utf8').matchAll(/helm install .*?(?:--namespace|-n)[ =]([a-z0-9-]+)/g)].map(
          (m) => m[1],
        ),
      );
    const chart = namespaces('charts/failover-operator/README.md');
    expect(chart.size).toBe(1);
    expect(namespaces('README.md')).toEqual(chart);
    expect(namespaces('docs/runbook.md').size).toBe(0); // the runbook names it in prose: failover-system
    expect(readFileSync('docs/runbook.md', 'utf8')).toContain(`namespace \`${[...chart][0]}\``);
  });

  it('LICENSE is the Apache License 2.0 that package.json declares', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { license: string };
    expect(pkg.license).toBe('Apache-2.0');
    const license = readFileSync('LICENSE', 'utf8');
    expect(license).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license.trim().endsWith('limitations under the License.')).toBe(true);
  });

  it('CHANGELOG follows Keep a Changelog: Unreleased first, then versions with dates, the package version among them', () => {
    const changelog = readFileSync('CHANGELOG.md', 'utf8');
    const versions = [...changelog.matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$/gm)].map((m) => [m[1], m[2]]);
    expect(versions[0]).toEqual(['Unreleased', undefined]);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(versions.slice(1).map(([v]) => v)).toContain(pkg.version);
    for (const [, date] of versions.slice(1)) expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [v] of versions) expect(changelog).toMatch(new RegExp(`^\\[${v}\\]: https://`, 'm'));
  });
});
