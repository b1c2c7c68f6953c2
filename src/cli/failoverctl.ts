#!/usr/bin/env node
// failoverctl: the operator's command line for people. This first cut has `validate`, the offline twin of the
// apiserver's schema and CEL checks (the same rules, evaluated by the same code the operator uses).

import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { formatFieldErrors, loadManifests } from '../api/index.ts';

export interface ValidateOutcome {
  file: string;
  documents: number;
  valid: number;
  messages: string[];
}

/** Validates every FailoverPolicy and FailoverDrill in the files; other kinds are passed over. */
export function validateFiles(files: string[]): ValidateOutcome[] {
  return files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      return { file, documents: 0, valid: 0, messages: [`${file}: cannot read the file (${code})`] };
    }
    const outcome: ValidateOutcome = { file, documents: 0, valid: 0, messages: [] };
    for (const doc of loadManifests(text, file)) {
      if (doc.type === 'Other') continue;
      outcome.documents++;
      if (doc.type === 'Invalid') {
        outcome.messages.push(formatFieldErrors(doc.errors, { file }));
      } else if (!doc.result.ok) {
        outcome.messages.push(
          `${doc.type} ${doc.name ?? '(unnamed)'}:\n${formatFieldErrors(doc.result.errors, { file })}`,
        );
      } else {
        outcome.valid++;
        outcome.messages.push(`${file}: ${doc.type} ${doc.name ?? '(unnamed)'} is valid`);
      }
    }
    if (outcome.documents === 0) outcome.messages.push(`${file}: no FailoverPolicy or FailoverDrill found`);
    return outcome;
  });
}

export function buildProgram(io: { out: (s: string) => void; err: (s: string) => void }): Command {
  const program = new Command('failoverctl').description('Inspect, rehearse and steer failover-operator policies.');
  program
    .command('validate')
    .description('check FailoverPolicy and FailoverDrill files offline, with the same rules the apiserver enforces')
    .argument('<file...>', 'YAML files (several documents per file are fine)')
    .addHelpText(
      'after',
      '\nExamples:\n  failoverctl validate examples/*.yaml\n  failoverctl validate policy.yaml drill.yaml',
    )
    .action((files: string[]) => {
      const outcomes = validateFiles(files);
      let ok = true;
      for (const o of outcomes) {
        const good = o.documents > 0 && o.valid === o.documents;
        ok &&= good;
        for (const m of o.messages) (good ? io.out : io.err)(`${m}\n`);
      }
      if (!ok) process.exitCode = 1;
    });
  return program;
}

if (import.meta.main) {
  await buildProgram({ out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }).parseAsync(
    process.argv,
  );
}
