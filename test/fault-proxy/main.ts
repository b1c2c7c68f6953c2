// Entry point: node test/fault-proxy/main.ts --port P --upstream http://127.0.0.1:MOTO [--host 127.0.0.1]
// Started by test/env/up.sh; stops on SIGTERM/SIGINT, dropping hung calls so shutdown is immediate.
import { parseArgs } from 'node:util';
import { createFaultProxy } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    upstream: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
if (!values.port || !values.upstream) {
  console.error('usage: node test/fault-proxy/main.ts --port P --upstream http://127.0.0.1:MOTO [--host 127.0.0.1]');
  process.exit(2);
}

const proxy = createFaultProxy({ upstream: values.upstream });
proxy.server.listen(Number(values.port), values.host, () => {
  console.log(`fault proxy listening on http://${values.host}:${values.port}, upstream ${values.upstream}`);
});
proxy.server.on('error', (err) => {
  console.error(`fault proxy failed: ${err.message}`);
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void proxy.close().then(() => process.exit(0));
  });
}
