// `npm run build`: the operator as the image ships it — a bundle of src/ and its production dependencies, made by
// esbuild, in dist/. Type checking is tsc's (`npm run typecheck`, and tsconfig.build.json below), not esbuild's.
//
// Why a bundle and not tsc's module per source file: V8 keeps the source text of every script it loads, and
// @kubernetes/client-node 2.0.1 loads every API group and model through KubeConfig (~1,500 modules, ~30 MiB of
// source strings and ~12 MiB of code at idle, most of it ObservableAPI.js and the request factories of API groups
// the operator never calls). Bundled, unused exports are dropped (tree shaking) and the rest is minified: the idle
// operator's heap went from 60 to 30 MiB and its RSS from 134 to ~97 MiB (bench/results/reconcile.md, "Memory").
// Identifiers are kept (class names appear in logged errors' `type`, and stack traces stay readable); whitespace
// and syntax are minified.
//
// Layout (what the Dockerfile, the chart and src/ expect):
//   dist/cli/failover-operator.js          the entry point (ENTRYPOINT node … dist/cli/failover-operator.js);
//   dist/cli/failoverctl.js                failoverctl, from the same build;
//   dist/cli/<name>-<hash>.js              chunks shared by them, and code loaded on first use (`run`'s main.ts,
//                                          the EC2, RDS, CloudWatch and DynamoDB clients) in chunks of its own;
//   dist/controller/drill-simulation-worker.js   the DryRun drill's worker thread (drill-simulator.ts starts it
//                                          beside its own module URL), one self-contained file;
//   dist/scenarios/builtin/*.yaml          the built-in scenarios (scenario-loader.ts reads them beside itself).
// Modules of src/ that read `import.meta.url` (package.json for the version, the built-in scenarios, the worker) see
// the URL their module would have had at dist/<path>.js, whichever chunk holds them: every chunk of one build is
// in one directory, so the rewrite below is the same relative path for all of them.
//
// Run: node scripts/build.ts [--outdir dist] [--metafile FILE] (esbuild's metafile: what each output holds).

import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(root, 'src');
const { values } = parseArgs({
  options: { outdir: { type: 'string', default: 'dist' }, metafile: { type: 'string' } },
});
const outRoot = path.resolve(root, values.outdir);

/**
 * `import.meta.url` in a module of src/ → the URL of OUTROOT/<its path under src, .js>, computed from the URL of
 * the output file that holds it (every output of one build is in `outDir`).
 */
export function moduleUrlPlugin(outDir: string): Plugin {
  return {
    name: 'module-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!args.path.startsWith(`${srcDir}${path.sep}`)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
        const asBuilt = path.join(outRoot, path.relative(srcDir, args.path)).replace(/\.ts$/, '.js');
        const relative = path.relative(outDir, asBuilt).split(path.sep).join('/');
        return {
          contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`),
          loader: 'ts',
        };
      });
    },
  };
}

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // ES modules where a package has them (the AWS SDK's dist-es): they tree-shake, CommonJS does not.
  mainFields: ['module', 'main'],
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: false,
  legalComments: 'none',
  // For `node --enable-source-maps`; not read otherwise. Without the sources: the image ships no src/.
  sourcemap: 'linked',
  sourcesContent: false,
  // CommonJS dependencies (undici, js-yaml…) call require(): ES module output has none of its own.
  banner: {
    js: "import { createRequire as __foCreateRequire } from 'node:module'; const require = __foCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: true,
};

rmSync(outRoot, { recursive: true, force: true });
const cliDir = path.join(outRoot, 'cli');
const cli = await build({
  ...common,
  entryPoints: {
    'failover-operator': path.join(srcDir, 'cli/failover-operator.ts'),
    failoverctl: path.join(srcDir, 'cli/failoverctl.ts'),
  },
  outdir: cliDir,
  splitting: true,
  chunkNames: '[name]-[hash]',
  plugins: [moduleUrlPlugin(cliDir)],
});
const workerDir = path.join(outRoot, 'controller');
const worker = await build({
  ...common,
  entryPoints: { 'drill-simulation-worker': path.join(srcDir, 'controller/drill-simulation-worker.ts') },
  outdir: workerDir,
  plugins: [moduleUrlPlugin(workerDir)],
});
cpSync(path.join(srcDir, 'scenarios/builtin'), path.join(outRoot, 'scenarios/builtin'), { recursive: true });

const outputs = { ...cli.metafile?.outputs, ...worker.metafile?.outputs } as Metafile['outputs'];
if (values.metafile) {
  writeFileSync(values.metafile, JSON.stringify({ inputs: { ...cli.metafile?.inputs }, outputs }, null, 1));
}
const js = Object.entries(outputs).filter(([file]) => file.endsWith('.js'));
const kib = (n: number) => Math.round(n / 1024);
process.stdout.write(
  `built ${path.relative(root, outRoot)}/: ${js.length} files, ${kib(js.reduce((n, [, o]) => n + o.bytes, 0))} KiB of JavaScript\n`,
);
