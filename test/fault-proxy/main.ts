// Entry point: node test/fault-proxy/main.ts --port P --upstream http://127.0.0.1:MOTO [--host 127.0.0.1]
//                [--route a=PORT --route b=PORT ...]
// Started by test/env/up.sh; stops on SIGTERM/SIGINT, dropping hung calls so shutdown is immediate. Each --route
// opens one more listener labelled with that route name (PORT 0: any free port); POST /__faults/routes opens more
// at run time.
import { parseArgs } from 'node:util';
import { createFaultProxy, routeNameProblem } from './server.ts';

const usage =
  'usage: node test/fault-proxy/main.ts --port P --upstream http://127.0.0.1:MOTO [--host 127.0.0.1] [--route NAME=PORT]...';
const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    upstream: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    route: { type: 'string', multiple: true, default: [] },
  },
});
if (!values.port || !values.upstream) {
  console.error(usage);
  process.exit(2);
}
const routes: Array<[string, number]> = [];
for (const spec of values.route) {
  const m = /^([^=]+)=(\d+)$/.exec(spec);
  const problem = m?.[1] ? routeNameProblem(m[1]) : `--route must be NAME=PORT, got "${spec}"`;
  if (problem || !m?.[1]) {
    console.error(`${problem}\n${usage}`);
    process.exit(2);
  }
  routes.push([m[1], Number(m[2])]);
}

const fail = (err: Error) => {
  console.error(`fault proxy failed: ${err.message}`);
  process.exit(1);
};
const host = values.host;
const proxy = createFaultProxy({ upstream: values.upstream });
proxy.server.on('error', fail);
proxy.server.listen(Number(values.port), host, () => {
  Promise.all(routes.map(([name, port]) => proxy.openRoute(name, port, host))).then((opened) => {
    const named = opened.map((r) => ` ${r.name}=${r.port}`).join('');
    console.log(
      `fault proxy listening on http://${host}:${values.port}, upstream ${values.upstream}` +
        (named ? `; routes${named}` : ''),
    );
  }, fail);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void proxy.close().then(() => process.exit(0));
  });
}
