#!/usr/bin/env node
// `failover-operator`: runs src/cli/failover-operator.ts with the project's Node 24, from a clone or after `npm link` (no build needed).
import { launch } from './launch.mjs';

await launch('src/cli/failover-operator.ts', 'failover-operator');
