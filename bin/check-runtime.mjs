#!/usr/bin/env node
// `npm start` and `npm test` run this first: on a Node that cannot run the TypeScript sources it prints one line
// naming what to install and exits 1, instead of Node's ERR_UNKNOWN_FILE_EXTENSION ".ts".
import { currentRuntimeProblem } from './runtime.mjs';

const problem = currentRuntimeProblem();
if (problem !== undefined) {
  process.stderr.write(`error: ${problem}\n`);
  process.exit(1);
}
