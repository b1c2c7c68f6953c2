// The Dockerfile cannot be built here (no Docker engine); these checks keep it consistent with what it packages:
// the CLI entry point, the built-in scenarios' location, a non-root runtime, and the chart's container command.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions (comments dropped, `\` continuations joined). */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [image = '', , name] = args.split(/\s+/);
      stages.push({ from: image, name, instructions: [] });
    } else if (stages.length === 0) {
      if (upper !== 'ARG') throw new Error(`instruction before FROM: ${line}`);
    } else {
      stages.at(-1)!.instructions.push({ keyword: upper, args });
    }
  }
  return stages;
}

const stages = parseDockerfile(read('Dockerfile'));
const runtime = stages.at(-1)!;
const last = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
const execForm = (args: string | undefined): string[] => {
  if (args === undefined) throw new Error('instruction missing');
  return JSON.parse(args) as string[];
};
const packageJson = JSON.parse(read('package.json')) as { bin: Record<string, string>; engines: { node: string } };

/** The Deployment template's literal `command:` / `args:` flow sequences (JSON-compatible by construction). */
function chartContainerLine(key: 'command' | 'args'): string[] {
  const m = new RegExp(`^\\s*${key}:\\s*(\\[.*\\])\\s*$`, 'm').exec(
    read('charts/failover-operator/templates/deployment.yaml'),
  );
  if (!m) throw new Error(`deployment.yaml has no literal ${key}: [...] line`);
  return JSON.parse(m[1]!) as string[];
}

describe('Dockerfile', () => {
  it('builds in one stage and ships from a node:24-slim runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toBe('node:24-slim');
    const build = stages[0]!;
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args))).toBe(true);
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /npm run build\b/.test(i.args))).toBe(true);
    const runtimeRuns = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runtimeRuns.some((r) => /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runtime.instructions).toContainEqual({ keyword: 'COPY', args: `--from=${build.name} /app/dist ./dist` });
  });

  it("runs package.json's failover-operator bin with node", () => {
    const entrypoint = execForm(last('ENTRYPOINT'));
    expect(entrypoint).toEqual(['node', packageJson.bin['failover-operator']]);
    expect(execForm(last('CMD'))).toEqual(['run']);
  });

  it('copies the built-in scenarios next to the built scenario loader', () => {
    // scenario-loader.ts resolves BUILTIN_DIR relative to its own module URL.
    expect(read('src/scenarios/scenario-loader.ts')).toContain("new URL('./builtin/', import.meta.url)");
    const copy = runtime.instructions.find((i) => i.keyword === 'COPY' && i.args.includes('src/scenarios/builtin'));
    expect(copy?.args).toBe('src/scenarios/builtin/*.yaml ./dist/scenarios/builtin/');
  });

  it('runs the runtime stage as a non-root user', () => {
    const user = last('USER');
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    // Nothing after USER switches back.
    const afterUser = runtime.instructions.slice(runtime.instructions.findIndex((i) => i.keyword === 'USER'));
    expect(afterUser.filter((i) => i.keyword === 'USER')).toHaveLength(1);
  });
});

describe('chart Deployment', () => {
  it('runs the same command as the image (ENTRYPOINT + CMD)', () => {
    expect(chartContainerLine('command')).toEqual(execForm(last('ENTRYPOINT')));
    expect(chartContainerLine('args')).toEqual(execForm(last('CMD')));
  });
});

describe('parseDockerfile', () => {
  it('joins continuations, names stages and rejects instructions before FROM', () => {
    const parsed = parseDockerfile('# c\nFROM a AS b\nRUN x \\\n  y\nFROM c\nUSER node\n');
    expect(parsed).toEqual([
      { from: 'a', name: 'b', instructions: [{ keyword: 'RUN', args: 'x    y' }] },
      { from: 'c', name: undefined, instructions: [{ keyword: 'USER', args: 'node' }] },
    ]);
    expect(() => parseDockerfile('RUN x\nFROM a')).toThrow(/before FROM/);
  });
});
