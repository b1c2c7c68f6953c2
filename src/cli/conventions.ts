// What both command lines share, as kubectl, cmctl and `kubectl cnpg` users expect it: --version, -o
// text|json|yaml|wide, exit codes documented in --help, shell completion generated from the command tree, and a
// closed pipe (`| head`) ending the program quietly.

import { readFileSync } from 'node:fs';
import { Argument, type Command, Option } from 'commander';
import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['text', 'json', 'yaml', 'wide'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Exit codes, the same for both CLIs. */
export const EXIT_OK = 0;
/** A drill or validation failed (the program worked; the thing it checked did not pass). */
export const EXIT_FAILED = 1;
/** Usage or input error: a bad flag, file, name or setting; nothing was done. */
export const EXIT_USAGE = 2;

export const EXIT_CODES_HELP = [
  '',
  'Exit codes:',
  '  0  done',
  '  1  a drill or validation failed, a request was refused or not found, or an unexpected error (FO_DEBUG=1',
  '     shows its stack)',
  '  2  usage or input error: a bad flag, file, setting or scenario, or no cluster to reach; nothing was done',
].join('\n');

/** The version in package.json (the one `npm version` and the release set). */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function outputOption(defaultFormat: OutputFormat = 'text'): Option {
  return new Option('-o, --output <format>', 'output format (wide: text with every column)')
    .choices(OUTPUT_FORMATS)
    .default(defaultFormat);
}

export function isStructured(format: OutputFormat): format is 'json' | 'yaml' {
  return format === 'json' || format === 'yaml';
}

/** JSON (indented, as kubectl prints it) or YAML of the same value. */
export function renderStructured(format: 'json' | 'yaml', value: unknown): string {
  if (format === 'yaml') return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Applies the conventions to a program and every subcommand: --version, global options in help, exit codes. */
export function applyConventions(program: Command): Command {
  program
    .version(packageVersion(), '--version', 'print the version and exit')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText('afterAll', EXIT_CODES_HELP);
  return program;
}

/**
 * What both CLIs print for an error that is not ours (a bug, or a library failing in a way we did not map): one
 * line, unless FO_DEBUG=1 asks for the stack trace.
 */
export function unexpectedFailureMessage(err: unknown, debug: boolean | undefined): string {
  if (debug && err instanceof Error) return `error: ${err.stack}\n`;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return `error: unexpected failure (${message.split('\n')[0]}); set FO_DEBUG=1 for the stack trace\n`;
}

/**
 * Ends the process quietly when the reader of stdout goes away (`failoverctl status | head -1`): EPIPE is the
 * reader's choice, not our failure, so exit 0 without a stack trace.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream, exit: (code: number) => void): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') exit(0);
    else throw err;
  });
}

// ---- shell completion ------------------------------------------------------------------------------------------

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

interface CommandNode {
  path: string[];
  description: string;
  subcommands: CommandNode[];
  options: { flags: string[]; description: string; choices?: readonly string[] }[];
}

function visibleCommands(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
}

function optionsOf(cmd: Command): CommandNode['options'] {
  return cmd.options
    .filter((o) => !o.hidden)
    .map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => f !== undefined),
      description: o.description,
      ...(o.argChoices ? { choices: o.argChoices } : {}),
    }));
}

/** The command tree as completion needs it; global options are offered on every command. */
export function commandTree(program: Command): CommandNode {
  const globals = optionsOf(program);
  const walk = (cmd: Command, path: string[]): CommandNode => ({
    path,
    description: cmd.description(),
    subcommands: visibleCommands(cmd).map((c) => walk(c, [...path, c.name()])),
    options:
      path.length === 0
        ? [...globals, { flags: ['--help'], description: 'show help' }]
        : [...optionsOf(cmd), ...globals, { flags: ['--help'], description: 'show help' }],
  });
  return walk(program, []);
}

function flatten(node: CommandNode): CommandNode[] {
  return [node, ...node.subcommands.flatMap(flatten)];
}

const shellWord = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');
const singleQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bashScript(program: string, tree: CommandNode): string {
  const fn = `_${shellWord(program)}_completion`;
  const cases = flatten(tree).map((node) => {
    const words = [...node.subcommands.map((s) => s.path.at(-1) ?? ''), ...node.options.flatMap((o) => o.flags)];
    const choices = node.options
      .filter((o) => o.choices)
      .map(
        (o) =>
          `        ${o.flags.join('|')}) COMPREPLY=($(compgen -W ${singleQuote(o.choices!.join(' '))} -- "$cur")); return ;;`,
      )
      .join('\n');
    return [
      `    ${singleQuote(node.path.join(' '))})`,
      choices ? `      case "$prev" in\n${choices}\n      esac` : '',
      `      COMPREPLY=($(compgen -W ${singleQuote(words.join(' '))} -- "$cur"))`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
      '      [[ ${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))',
      '      ;;',
    ]
      .filter((l) => l !== '')
      .join('\n');
  });
  const known = singleQuote(
    ` ${flatten(tree)
      .map((n) => n.path.join(' '))
      .filter((p) => p !== '')
      .join(' | ')} `,
  );
  return `# bash completion for ${program}; load with: source <(${program} completion bash)
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    if [[ ${known} == *" \${path:+$path }$word |"* || ${known} == *" \${path:+$path }$word "* ]]; then
      path="\${path:+$path }$word"
    fi
  done
  case "$path" in
${cases.join('\n')}
  esac
}
complete -o default -F ${fn} ${program}
`;
}

function zshScript(program: string, tree: CommandNode): string {
  // zsh runs the bash function through bashcompinit: one generator, the same answers in both shells.
  return `#compdef ${program}
# zsh completion for ${program}; load with: source <(${program} completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(program, tree)}`;
}

function fishScript(program: string, tree: CommandNode): string {
  const lines = [
    `# fish completion for ${program}; load with: ${program} completion fish | source`,
    `complete -c ${program} -f`,
  ];
  for (const node of flatten(tree)) {
    const condition =
      node.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${node.path.at(-1)}`;
    for (const sub of node.subcommands) {
      lines.push(
        `complete -c ${program} -n ${singleQuote(condition)} -a ${sub.path.at(-1)} -d ${singleQuote(sub.description)}`,
      );
    }
    for (const o of node.options) {
      const names = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ');
      const args = o.choices ? ` -x -a ${singleQuote(o.choices.join(' '))}` : '';
      lines.push(
        `complete -c ${program} -n ${singleQuote(condition)} ${names}${args} -d ${singleQuote(o.description)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(program: Command, shell: CompletionShell): string {
  // As a kubectl plugin the program calls itself "kubectl failover"; the shell knows the executable kubectl-failover.
  const name = program.name().replace(/ /g, '-');
  const tree = commandTree(program);
  if (shell === 'bash') return bashScript(name, tree);
  if (shell === 'zsh') return zshScript(name, tree);
  return fishScript(name, tree);
}

/**
 * Cobra's `__complete` protocol, which kubectl (1.26+) speaks to a plugin's `kubectl_complete-<name>` executable:
 * the words typed so far, the last one being completed; answers one candidate per line, then `:<directive>`
 * (4: do not fall back to file names; 0: the shell's default).
 */
export function completeWords(program: Command, words: readonly string[]): string {
  const tree = commandTree(program);
  const typed = words.slice(0, -1);
  const current = words.at(-1) ?? '';
  let node = tree;
  let previous: CommandNode['options'][number] | undefined;
  for (const word of typed) {
    const option = node.options.find((o) => o.flags.includes(word));
    if (option) {
      previous = option;
      continue;
    }
    const sub = previous?.choices === undefined ? node.subcommands.find((c) => c.path.at(-1) === word) : undefined;
    if (sub) node = sub;
    previous = undefined;
  }
  const last = typed.at(-1);
  const optionBefore = last === undefined ? undefined : node.options.find((o) => o.flags.includes(last));
  let candidates: string[];
  if (optionBefore?.choices) candidates = [...optionBefore.choices];
  else if (current.startsWith('-')) candidates = node.options.flatMap((o) => o.flags);
  else candidates = node.subcommands.map((c) => c.path.at(-1) ?? '');
  const matching = candidates.filter((c) => c.startsWith(current));
  const directive = matching.length === 0 && !current.startsWith('-') ? 0 : 4;
  return `${[...matching, `:${directive}`].join('\n')}\n`;
}

/** Adds `completion bash|zsh|fish`, which prints a script generated from the program's own command tree. */
export function addCompletionCommand(program: Command, print: (text: string) => void): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(COMPLETION_SHELLS))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        `  source <(${program.name()} completion bash)            # this shell; add to ~/.bashrc to keep it`,
        `  ${program.name()} completion zsh > "\${fpath[1]}/_${program.name()}"`,
        `  ${program.name()} completion fish > ~/.config/fish/completions/${program.name()}.fish`,
      ].join('\n'),
    )
    .action((shell: CompletionShell, _opts: unknown, cmd: Command) => {
      const output = (cmd.optsWithGlobals() as { output?: OutputFormat }).output;
      if (output !== undefined && output !== 'text') {
        throw new UsageProblem(`completion prints a shell script; -o ${output} does not apply to it`);
      }
      print(completionScript(program, shell));
    });
}

/** A usage error found by shared code; each CLI maps it to its own usage error (exit 2). */
export class UsageProblem extends Error {
  override name = 'UsageProblem';
}
