// Reads a V8 .heapsnapshot (the operator's, taken with --heapsnapshot-signal=SIGUSR2 or the inspector) and says what
// the heap is made of, without a GUI:
//   node --max-old-space-size=4096 bench/heap/heap-snapshot.ts FILE [--depth N] [--min-mib X] [--classes N]
//
// 1. By class: instances, self size and retained size (retained = what a collection would free if the object went;
//    summed over the instances no other instance of the same class dominates, as DevTools' Summary does).
// 2. The dominator tree from the GC roots down to --depth, every node retaining at least --min-mib shown with the
//    edge it hangs off (`map entry`, a property name, `[i]`); siblings of one class are folded into one line
//    (`1000 × Object`), which is what makes "one thing per policy" visible.
//
// The snapshot is parsed from the bytes (the numbers straight into typed arrays), so a file larger than the biggest
// string V8 allows still reads. Weak edges retain nothing; dominators by Cooper, Harvey and Kennedy's iteration.

import { readFileSync } from 'node:fs';

interface Meta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
  edge_fields: string[];
  edge_types: [string[], ...unknown[]];
}

export interface HeapGraph {
  nodeCount: number;
  /** Per node: class label (see classOf), self size, first edge. */
  className: string[];
  selfSize: Float64Array;
  firstEdge: Uint32Array;
  /** Per edge: target node, label. */
  edgeTo: Uint32Array;
  edgeLabel: string[];
  edgeWeak: Uint8Array;
}

/** Finds `"key":[` after `from` and returns the offset just past the `[`. */
function arrayStart(buf: Buffer, key: string, from = 0): number {
  const at = buf.indexOf(`"${key}":[`, from);
  if (at < 0) throw new Error(`no "${key}" array in the snapshot`);
  return at + key.length + 4;
}

/** Unsigned integers of a JSON array starting at `start`, up to its `]`. */
function readNumbers(buf: Buffer, start: number, expected: number): { values: Float64Array; end: number } {
  const values = new Float64Array(expected);
  let n = 0;
  let current = 0;
  let inNumber = false;
  let i = start;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) {
      current = current * 10 + (c - 48);
      inNumber = true;
    } else {
      if (inNumber) {
        values[n++] = current;
        current = 0;
        inNumber = false;
      }
      if (c === 93) break; // ]
    }
  }
  if (n !== expected) throw new Error(`expected ${expected} numbers, read ${n}`);
  return { values, end: i };
}

/** A label per node that groups like with like: the constructor for objects, `(string)`, `(code)`, `(array)`…. */
function classOf(type: string, name: string): string {
  switch (type) {
    case 'object':
    case 'native':
      return name;
    case 'closure':
      return `(closure ${name || 'anonymous'})`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'array':
      return `(array${name ? ` ${name}` : ''})`;
    case 'hidden':
      return `(system${name ? ` ${name.replace(/ \/ .*/, '')}` : ''})`;
    default:
      return `(${type})`;
  }
}

export function readHeapSnapshot(file: string): HeapGraph {
  const buf = readFileSync(file);
  // Everything before the nodes is the small `snapshot` header: meta and counts.
  const head = buf.subarray(0, buf.indexOf('"nodes":[')).toString().replace(/,\s*$/, '');
  const snapshot = JSON.parse(`${head}}`).snapshot as { meta: Meta; node_count: number; edge_count: number };
  const { meta } = snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nodes = readNumbers(buf, arrayStart(buf, 'nodes'), snapshot.node_count * nf);
  const edges = readNumbers(buf, arrayStart(buf, 'edges', nodes.end), snapshot.edge_count * ef);
  const stringsAt = arrayStart(buf, 'strings', edges.end) - 1;
  const strings = JSON.parse(buf.subarray(stringsAt, buf.lastIndexOf(']') + 1).toString()) as string[];

  const typeI = meta.node_fields.indexOf('type');
  const nameI = meta.node_fields.indexOf('name');
  const sizeI = meta.node_fields.indexOf('self_size');
  const countI = meta.node_fields.indexOf('edge_count');
  const eTypeI = meta.edge_fields.indexOf('type');
  const eNameI = meta.edge_fields.indexOf('name_or_index');
  const eToI = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];

  const nodeCount = snapshot.node_count;
  const className = new Array<string>(nodeCount);
  const selfSize = new Float64Array(nodeCount);
  const firstEdge = new Uint32Array(nodeCount + 1);
  let edge = 0;
  for (let n = 0; n < nodeCount; n++) {
    const o = n * nf;
    className[n] = classOf(nodeTypes[nodes.values[o + typeI]!]!, strings[nodes.values[o + nameI]!]!);
    selfSize[n] = nodes.values[o + sizeI]!;
    firstEdge[n] = edge;
    edge += nodes.values[o + countI]!;
  }
  firstEdge[nodeCount] = edge;

  const edgeCount = snapshot.edge_count;
  const edgeTo = new Uint32Array(edgeCount);
  const edgeLabel = new Array<string>(edgeCount);
  const edgeWeak = new Uint8Array(edgeCount);
  for (let e = 0; e < edgeCount; e++) {
    const o = e * ef;
    const type = edgeTypes[edges.values[o + eTypeI]!]!;
    const nameOrIndex = edges.values[o + eNameI]!;
    edgeTo[e] = edges.values[o + eToI]! / nf;
    edgeWeak[e] = type === 'weak' ? 1 : 0;
    edgeLabel[e] =
      type === 'element' || type === 'hidden'
        ? `[${nameOrIndex}]`
        : type === 'internal' && strings[nameOrIndex] === ''
          ? '(internal)'
          : (strings[nameOrIndex] ?? `?${nameOrIndex}`);
  }
  return { nodeCount, className, selfSize, firstEdge, edgeTo, edgeLabel, edgeWeak };
}

export interface Dominators {
  /** Immediate dominator per node (the root's is itself); unreachable nodes: 0xffffffff. */
  idom: Uint32Array;
  retained: Float64Array;
}

const UNREACHED = 0xffffffff;

export function dominators(g: HeapGraph): Dominators {
  const n = g.nodeCount;
  // Iterative DFS from the root (node 0): postorder numbers.
  const post = new Uint32Array(n).fill(UNREACHED);
  const order = new Uint32Array(n); // postorder index → node
  const stack = new Uint32Array(n);
  const cursor = new Uint32Array(n);
  const visited = new Uint8Array(n);
  let sp = 0;
  let count = 0;
  stack[sp++] = 0;
  visited[0] = 1;
  cursor[0] = g.firstEdge[0]!;
  while (sp > 0) {
    const v = stack[sp - 1]!;
    const end = g.firstEdge[v + 1]!;
    let pushed = false;
    while (cursor[v]! < end) {
      const e = cursor[v]!;
      cursor[v] = e + 1;
      if (g.edgeWeak[e]) continue;
      const w = g.edgeTo[e]!;
      if (visited[w]) continue;
      visited[w] = 1;
      cursor[w] = g.firstEdge[w]!;
      stack[sp++] = w;
      pushed = true;
      break;
    }
    if (!pushed) {
      sp--;
      post[v] = count;
      order[count++] = v;
    }
  }
  // Predecessors (strong edges between reachable nodes), CSR.
  const predStart = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (!visited[v]) continue;
    for (let e = g.firstEdge[v]!; e < g.firstEdge[v + 1]!; e++) {
      if (!g.edgeWeak[e] && visited[g.edgeTo[e]!]) predStart[g.edgeTo[e]! + 1]!++;
    }
  }
  for (let v = 0; v < n; v++) predStart[v + 1]! += predStart[v]!;
  const preds = new Uint32Array(predStart[n]!);
  const fill = predStart.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (!visited[v]) continue;
    for (let e = g.firstEdge[v]!; e < g.firstEdge[v + 1]!; e++) {
      const w = g.edgeTo[e]!;
      if (!g.edgeWeak[e] && visited[w]) preds[fill[w]!++] = v;
    }
  }
  // Cooper, Harvey, Kennedy: iterate in reverse postorder until nothing changes.
  const idomPost = new Uint32Array(count).fill(UNREACHED); // by postorder index
  const rootPost = post[0]!;
  idomPost[rootPost] = rootPost;
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = count - 1; i >= 0; i--) {
      if (i === rootPost) continue;
      const v = order[i]!;
      let newIdom = UNREACHED;
      for (let p = predStart[v]!; p < predStart[v + 1]!; p++) {
        let a = post[preds[p]!]!;
        if (idomPost[a] === UNREACHED) continue;
        if (newIdom === UNREACHED) {
          newIdom = a;
          continue;
        }
        let b = newIdom;
        while (a !== b) {
          while (a < b) a = idomPost[a]!;
          while (b < a) b = idomPost[b]!;
        }
        newIdom = a;
      }
      if (idomPost[i] !== newIdom) {
        idomPost[i] = newIdom;
        changed = true;
      }
    }
  }
  const idom = new Uint32Array(n).fill(UNREACHED);
  for (let i = 0; i < count; i++) idom[order[i]!] = order[idomPost[i]!]!;
  // Retained sizes: children before their dominators, i.e. in postorder.
  const retained = new Float64Array(n);
  for (let i = 0; i < count; i++) {
    const v = order[i]!;
    const own = retained[v]! + g.selfSize[v]!;
    retained[v] = own;
    if (v !== 0) retained[idom[v]!] = retained[idom[v]!]! + own;
  }
  return { idom, retained };
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Instances, self and retained size per class, largest retained first. */
export function byClass(g: HeapGraph, d: Dominators) {
  const rows = new Map<string, { count: number; self: number; retained: number }>();
  for (let v = 0; v < g.nodeCount; v++) {
    if (d.idom[v] === UNREACHED) continue;
    const name = g.className[v]!;
    const row = rows.get(name) ?? { count: 0, self: 0, retained: 0 };
    row.count++;
    row.self += g.selfSize[v]!;
    // Counted once: skip instances held by another instance of the same class.
    let up = d.idom[v]!;
    let nested = false;
    for (let hops = 0; hops < 64 && up !== 0; hops++) {
      if (g.className[up] === name) {
        nested = true;
        break;
      }
      up = d.idom[up]!;
    }
    if (!nested) row.retained += d.retained[v]!;
    rows.set(name, row);
  }
  return [...rows].sort((a, b) => b[1].retained - a[1].retained);
}

/**
 * The dominator tree as indented lines. Siblings with the same edge and class are folded into one line
 * (`1000 × #cache → Object`) and their children are folded together too, so one structure per policy adds up.
 */
export function dominatorTree(g: HeapGraph, d: Dominators, maxDepth: number, minBytes: number): string[] {
  const children = new Map<number, number[]>();
  for (let v = 1; v < g.nodeCount; v++) {
    const p = d.idom[v]!;
    if (p === UNREACHED) continue;
    const list = children.get(p);
    if (list) list.push(v);
    else children.set(p, [v]);
  }
  const lines: string[] = [];
  const paths = shortestPaths(g);
  const label = (v: number) => {
    const e = paths.parentEdge[v]!;
    const edge = e < 0 ? '' : g.edgeLabel[e]!;
    return `${/^\[\d+\]$/.test(edge) ? '[i]' : edge} → ${g.className[v]}`;
  };
  const walk = (members: number[], depth: number) => {
    if (depth >= maxDepth) return;
    const groups = new Map<string, number[]>();
    for (const m of members) {
      for (const c of children.get(m) ?? []) {
        const key = label(c);
        const group = groups.get(key);
        if (group) group.push(c);
        else groups.set(key, [c]);
      }
    }
    const sorted = [...groups].map(([key, group]) => ({
      key,
      group,
      total: group.reduce((s, m) => s + d.retained[m]!, 0),
    }));
    sorted.sort((a, b) => b.total - a.total);
    for (const { key, group, total } of sorted) {
      if (total < minBytes) continue;
      const pad = '  '.repeat(depth);
      const self = group.reduce((s, m) => s + g.selfSize[m]!, 0);
      const many = group.length > 1 ? `${group.length} × ` : '';
      lines.push(`${pad}${mib(total).padStart(7)} MiB  ${many}${key} (self ${mib(self)} MiB)`);
      if (depth <= 1) lines.push(`${pad}           held by ${pathFromRoot(g, paths, group[0]!)}`);
      walk(group, depth + 1);
    }
  };
  walk([0], 0);
  return lines;
}

/** Shortest chains from the root (breadth first, strong edges): the edge into each node, -1 for the root. */
export function shortestPaths(g: HeapGraph): { parentEdge: Int32Array; parent: Int32Array } {
  const parentEdge = new Int32Array(g.nodeCount).fill(-1);
  const parent = new Int32Array(g.nodeCount).fill(-1);
  const queue = new Uint32Array(g.nodeCount);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  parent[0] = 0;
  while (head < tail) {
    const v = queue[head++]!;
    for (let e = g.firstEdge[v]!; e < g.firstEdge[v + 1]!; e++) {
      const w = g.edgeTo[e]!;
      if (g.edgeWeak[e] || parent[w] !== -1) continue;
      parent[w] = v;
      parentEdge[w] = e;
      queue[tail++] = w;
    }
  }
  return { parentEdge, parent };
}

/** One way `v` is held: the shortest chain of `Class.edge` from the GC roots. */
function pathFromRoot(g: HeapGraph, paths: ReturnType<typeof shortestPaths>, v: number): string {
  const steps: string[] = [];
  for (let at = v, hops = 0; at > 0 && hops < 40; hops++) {
    const e = paths.parentEdge[at]!;
    if (e < 0) break;
    at = paths.parent[at]!;
    steps.push(`${g.className[at]}.${g.edgeLabel[e]}`);
  }
  return steps.reverse().join(' → ');
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i < 0 ? fallback : Number(args[i + 1]);
  };
  const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: node bench/heap/heap-snapshot.ts FILE [--depth N] [--min-mib X] [--classes N]\n');
    process.exit(2);
  }
  const g = readHeapSnapshot(file);
  const d = dominators(g);
  let total = 0;
  for (let v = 0; v < g.nodeCount; v++) total += g.selfSize[v]!;
  const out: string[] = [`${file}: ${g.nodeCount} nodes, ${mib(total)} MiB, ${mib(d.retained[0]!)} MiB reachable`];
  out.push('', 'By class (retained, self, instances):');
  for (const [name, row] of byClass(g, d).slice(0, flag('--classes', 40))) {
    out.push(`${mib(row.retained).padStart(8)} ${mib(row.self).padStart(8)} ${String(row.count).padStart(8)}  ${name}`);
  }
  out.push('', 'Dominator tree:');
  out.push(...dominatorTree(g, d, flag('--depth', 8), flag('--min-mib', 0.5) * 1024 * 1024));
  process.stdout.write(`${out.join('\n')}\n`);
}
