// Hostile input (#15): the shipped examples and built-in scenarios, mutated — keys deleted or duplicated, values of
// the wrong type, huge numbers, strings and lists, nulls, YAML 1.1 booleans, aliases and alias bombs, truncation —
// and run in-process through `failoverctl validate` and the scenario loader. Each must end with our own error
// (a field path or the file name, no stack trace, no exception type leaking) or a valid result, and quickly: the
// sizes are capped so that every case is naturally bounded, and one over 5 s fails the test.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import type { CtlDeps } from '../../../src/cli/ctl/context.ts';
import { runFailoverctl } from '../../../src/cli/failoverctl.ts';
import { parseScenario, ScenarioError } from '../../../src/scenarios/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const EXAMPLES = readdirSync(path.join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => readFileSync(path.join(ROOT, 'examples', f), 'utf8'));
const SCENARIOS = readdirSync(path.join(ROOT, 'src/scenarios/builtin'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => readFileSync(path.join(ROOT, 'src/scenarios/builtin', f), 'utf8'));

const CASE_BUDGET_MS = 5_000;
/** What a leaked exception looks like in output: a stack frame, or a JS error type name. */
const STACK_FRAME = /\n\s+at .+[:(]\d+/;
const LEAKED_TYPE = /\b(TypeError|RangeError|ReferenceError|SyntaxError|Maximum call stack)\b/;

// ---------------------------------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------------------------------

const HOSTILE_VALUES: unknown[] = [
  null,
  '',
  0,
  -1,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  0.5,
  true,
  'on',
  'x'.repeat(100_000),
  Array.from({ length: 10_000 }, (_, i) => `us-east-1${'abc'[i % 3]}`),
  Array.from({ length: 2_000 }, () => ({ zone: 'us-east-1a', endpoints: 'down' })),
  {},
  [],
  { nested: { deeper: [1, 2, 3] } },
];

/** Plain YAML-1.1 booleans kubectl reads as booleans, written unquoted into the text. */
const YAML11_BOOLEANS = ['yes', 'No', 'ON', 'off', 'y', 'N'];

type Mutation =
  | { op: 'delete'; pick: number }
  | { op: 'set'; pick: number; value: number }
  | { op: 'yaml11'; pick: number; word: number }
  | { op: 'duplicateLine'; pick: number }
  | { op: 'truncate'; at: number }
  | { op: 'aliasBomb' }
  | { op: 'danglingAlias'; pick: number }
  | { op: 'anchorReuse'; pick: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('set' as const), pick: fc.nat(), value: fc.nat(HOSTILE_VALUES.length - 1) }),
  fc.record({ op: fc.constant('yaml11' as const), pick: fc.nat(), word: fc.nat(YAML11_BOOLEANS.length - 1) }),
  fc.record({ op: fc.constant('duplicateLine' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constant('aliasBomb' as const) }),
  fc.record({ op: fc.constant('danglingAlias' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('anchorReuse' as const), pick: fc.nat() }),
);

type Path = (string | number)[];

/** Every path to a value in the document, parents before children. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}

function setAt(root: unknown, at: Path, value: unknown, remove = false): unknown {
  if (at.length === 0) return remove ? {} : value;
  let node = root as Record<string | number, unknown>;
  for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = at[at.length - 1]!;
  if (remove && Array.isArray(node)) node.splice(last as number, 1);
  else if (remove) delete node[last];
  else node[last] = value;
  return root;
}

/** Applies the structural mutations to the data, then the textual ones to its YAML. */
function mutate(text: string, mutations: Mutation[]): string {
  let data: unknown = (() => {
    try {
      return JSON.parse(JSON.stringify(parseYaml(text)));
    } catch {
      return {};
    }
  })();
  for (const m of mutations) {
    const paths = pathsOf(data).filter((p) => p.length > 0);
    const target = paths.length > 0 ? paths[('pick' in m ? m.pick : 0) % paths.length]! : [];
    if (m.op === 'delete') data = setAt(data, target, undefined, true);
    if (m.op === 'set') data = setAt(data, target, structuredClone(HOSTILE_VALUES[m.value]));
  }
  let out = stringify(data, { lineWidth: 0 });
  for (const m of mutations) {
    const lines = out.split('\n');
    const pick = 'pick' in m ? m.pick % Math.max(1, lines.length) : 0;
    switch (m.op) {
      case 'yaml11': {
        // Replace the value of a `key: value` line with an unquoted YAML 1.1 boolean.
        const line = lines[pick] ?? '';
        if (/:\s+\S/.test(line)) lines[pick] = line.replace(/:\s+.*$/, `: ${YAML11_BOOLEANS[m.word]}`);
        out = lines.join('\n');
        break;
      }
      case 'duplicateLine':
        lines.splice(pick, 0, lines[pick] ?? '');
        out = lines.join('\n');
        break;
      case 'truncate':
        out = out.slice(0, Math.floor(out.length * m.at));
        break;
      case 'aliasBomb':
        out = `${out}\nlol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${[1, 2, 3, 4, 5, 6, 7]
          .map(
            (i) =>
              `lol${i}: &l${i} [${Array(9)
                .fill(`*l${i - 1}`)
                .join(', ')}]`,
          )
          .join('\n')}\n`;
        break;
      case 'danglingAlias': {
        const line = lines[pick] ?? '';
        if (/:\s+\S/.test(line)) lines[pick] = line.replace(/:\s+.*$/, ': *nowhere');
        out = lines.join('\n');
        break;
      }
      case 'anchorReuse': {
        // An anchored value used again elsewhere: legal, and must not confuse line numbers or validation.
        const line = lines[pick] ?? '';
        if (/:\s+[^&*\s]/.test(line) && !line.trimStart().startsWith('-')) {
          lines[pick] = line.replace(/:\s+/, ': &reused ');
          lines.push('extra: *reused');
        }
        out = lines.join('\n');
        break;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------------------------

const dir = mkdtempSync(path.join(tmpdir(), 'fo-fuzz-'));
let fileNo = 0;

async function validateInProcess(text: string): Promise<{ code: number; out: string; err: string; file: string }> {
  const file = path.join(dir, `case-${++fileNo}.yaml`);
  writeFileSync(file, text);
  const out: string[] = [];
  const err: string[] = [];
  const deps: CtlDeps = {
    io: { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, confirm: async () => false },
    kube: () => {
      throw new Error('validate must not reach the cluster');
    },
    now: () => 0,
    randomSuffix: () => 'fuzz',
  };
  const code = await runFailoverctl(['node', 'failoverctl', 'validate', file], deps);
  return { code, out: out.join(''), err: err.join(''), file };
}

async function timed<T>(run: () => Promise<T> | T): Promise<T> {
  const started = performance.now();
  const result = await run();
  const elapsed = performance.now() - started;
  if (elapsed > CASE_BUDGET_MS) throw new Error(`one case took ${Math.round(elapsed)} ms (budget ${CASE_BUDGET_MS})`);
  return result;
}

describe('hostile input, fuzzed (fast-check)', () => {
  it('failoverctl validate answers every mutated example with its own errors, quickly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(EXAMPLES.length - 1),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        async (example, mutations) => {
          const text = mutate(EXAMPLES[example]!, mutations);
          const r = await timed(() => validateInProcess(text));
          const output = `${r.out}${r.err}`;
          expect(r.code, output).toBeOneOf([0, 1]);
          expect(output).not.toMatch(STACK_FRAME);
          expect(output).not.toMatch(LEAKED_TYPE);
          expect(output).not.toContain('unexpected failure');
          // Every message names the file it is about.
          expect(output).toContain(r.file);
        },
      ),
      { numRuns: 120, seed: 15 },
    );
  }, 60_000);

  it('the scenario loader answers every mutated built-in with a ScenarioError naming fields, quickly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(SCENARIOS.length - 1),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        async (scenario, mutations) => {
          const text = mutate(SCENARIOS[scenario]!, mutations);
          await timed(() => {
            try {
              parseScenario(text, 'fuzz.yaml');
            } catch (error) {
              expect(error, String((error as Error)?.stack)).toBeInstanceOf(ScenarioError);
              const issues = (error as ScenarioError).issues;
              expect(issues.length).toBeGreaterThan(0);
              for (const issue of issues) {
                expect(typeof issue.path).toBe('string');
                expect(issue.message.length).toBeGreaterThan(0);
                expect(issue.message).not.toMatch(LEAKED_TYPE);
              }
              expect((error as ScenarioError).message).toContain('fuzz.yaml');
            }
          });
        },
      ),
      { numRuns: 150, seed: 15 },
    );
  }, 60_000);
});
