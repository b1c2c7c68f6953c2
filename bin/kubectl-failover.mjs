#!/usr/bin/env node
// `kubectl-failover`: runs src/cli/failoverctl.ts with the project's Node 24, from a clone or after `npm link` (no build needed).
import { launch } from './launch.mjs';

await launch('src/cli/failoverctl.ts', 'kubectl failover');
