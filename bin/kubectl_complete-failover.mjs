#!/usr/bin/env node
// `kubectl_complete-failover`: kubectl (1.26+) runs it to complete `kubectl failover <TAB>` (cobra's __complete).
import { launch } from './launch.mjs';

process.argv.splice(2, 0, '__complete');
await launch('src/cli/failoverctl.ts', 'kubectl failover');
