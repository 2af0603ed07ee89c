// Compares two V8 heap snapshots of one process (taken, say, at 1 and 5 minutes of the soak
// benchmark: WEIR_SOAK_HEAP_SNAPSHOTS=1,5), without a GUI:
//   node dist/bench/heap-diff.js <before.heapsnapshot> <after.heapsnapshot> [--top=25] [--paths=3]
// Prints, per class (constructor name; "(closure) f", "(array)", "(string)", ... for the rest),
// the change in object count, self size and retained size (dominator tree), then the classes of
// the objects that are new in the second snapshot and still alive (V8 keeps an object's id across
// snapshots of one process), and for the largest of those a few retainer paths from the GC roots:
// what holds them.
import { readFileSync } from 'node:fs';

interface Snapshot {
  nodeCount: number;
  /** Per node. */
  type: string[];
  name: string[];
  id: Float64Array;
  selfSize: Float64Array;
  /** Per node, first edge index into edge arrays. */
  firstEdge: Uint32Array;
  edgeType: string[];
  edgeName: string[];
  edgeTo: Uint32Array;
  /** Reverse edges: retainers of each node. */
  firstRetainer: Uint32Array;
  retainerNode: Uint32Array;
  retainerEdge: Uint32Array;
  retained: Float64Array;
  /** Immediate dominator of each node; -1 when unreachable. */
  idom: Int32Array;
  /** Preorder of the reachable nodes (root first) of the DFS the dominator tree came from. */
  preorder: Uint32Array;
  distance: Int32Array;
}

function load(file: string): Snapshot {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: {
      meta: {
        node_fields: string[];
        node_types: (string[] | string)[];
        edge_fields: string[];
        edge_types: (string[] | string)[];
      };
      node_count: number;
      edge_count: number;
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const m = raw.snapshot.meta;
  const nf = m.node_fields.length;
  const ef = m.edge_fields.length;
  const nTypeIdx = m.node_fields.indexOf('type');
  const nNameIdx = m.node_fields.indexOf('name');
  const nIdIdx = m.node_fields.indexOf('id');
  const nSizeIdx = m.node_fields.indexOf('self_size');
  const nEdgesIdx = m.node_fields.indexOf('edge_count');
  const eTypeIdx = m.edge_fields.indexOf('type');
  const eNameIdx = m.edge_fields.indexOf('name_or_index');
  const eToIdx = m.edge_fields.indexOf('to_node');
  const nodeTypes = m.node_types[nTypeIdx] as string[];
  const edgeTypes = m.edge_types[eTypeIdx] as string[];
  const n = raw.nodes.length / nf;
  const e = raw.edges.length / ef;
  const s: Snapshot = {
    nodeCount: n,
    type: new Array<string>(n),
    name: new Array<string>(n),
    id: new Float64Array(n),
    selfSize: new Float64Array(n),
    firstEdge: new Uint32Array(n + 1),
    edgeType: new Array<string>(e),
    edgeName: new Array<string>(e),
    edgeTo: new Uint32Array(e),
    firstRetainer: new Uint32Array(n + 1),
    retainerNode: new Uint32Array(e),
    retainerEdge: new Uint32Array(e),
    retained: new Float64Array(n),
    idom: new Int32Array(n),
    preorder: new Uint32Array(0),
    distance: new Int32Array(n).fill(-1),
  };
  let edge = 0;
  for (let i = 0; i < n; i++) {
    const b = i * nf;
    s.type[i] = nodeTypes[raw.nodes[b + nTypeIdx]!]!;
    s.name[i] = raw.strings[raw.nodes[b + nNameIdx]!]!;
    s.id[i] = raw.nodes[b + nIdIdx]!;
    s.selfSize[i] = raw.nodes[b + nSizeIdx]!;
    s.firstEdge[i] = edge;
    edge += raw.nodes[b + nEdgesIdx]!;
  }
  s.firstEdge[n] = edge;
  const retainerCount = new Uint32Array(n);
  for (let j = 0; j < e; j++) {
    const b = j * ef;
    const t = edgeTypes[raw.edges[b + eTypeIdx]!]!;
    s.edgeType[j] = t;
    const nameOrIndex = raw.edges[b + eNameIdx]!;
    s.edgeName[j] = t === 'element' || t === 'hidden' ? `[${nameOrIndex}]` : raw.strings[nameOrIndex]!;
    const to = raw.edges[b + eToIdx]! / nf;
    s.edgeTo[j] = to;
    retainerCount[to]!++;
  }
  for (let i = 0; i < n; i++) s.firstRetainer[i + 1] = s.firstRetainer[i]! + retainerCount[i]!;
  const fill = s.firstRetainer.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let j = s.firstEdge[i]!; j < s.firstEdge[i + 1]!; j++) {
      const to = s.edgeTo[j]!;
      const k = fill[to]!++;
      s.retainerNode[k] = i;
      s.retainerEdge[k] = j;
    }
  }
  computeDistances(s);
  computeRetainedSizes(s);
  return s;
}

/** Weak edges do not keep anything alive; shortcut edges are DevTools' synthetic ones. */
function strong(s: Snapshot, edge: number): boolean {
  const t = s.edgeType[edge];
  return t !== 'weak' && t !== 'shortcut';
}

/** BFS distance from the root (node 0) over strong edges. */
function computeDistances(s: Snapshot): void {
  const queue = new Uint32Array(s.nodeCount);
  let head = 0;
  let tail = 0;
  s.distance[0] = 0;
  queue[tail++] = 0;
  while (head < tail) {
    const i = queue[head++]!;
    for (let j = s.firstEdge[i]!; j < s.firstEdge[i + 1]!; j++) {
      if (!strong(s, j)) continue;
      const to = s.edgeTo[j]!;
      if (s.distance[to] !== -1) continue;
      s.distance[to] = s.distance[i]! + 1;
      queue[tail++] = to;
    }
  }
}

/** Dominator tree (Lengauer and Tarjan, with path compression) and retained sizes. */
function computeRetainedSizes(s: Snapshot): void {
  const n = s.nodeCount;
  // Depth-first preorder over strong edges from the root (node 0).
  const dfnum = new Int32Array(n).fill(-1);
  const vertex = new Uint32Array(n);
  const parent = new Int32Array(n).fill(-1);
  const stackNode = new Uint32Array(n);
  const stackEdge = new Uint32Array(n);
  let count = 0;
  dfnum[0] = count;
  vertex[count++] = 0;
  stackNode[0] = 0;
  stackEdge[0] = s.firstEdge[0]!;
  let sp = 1;
  while (sp > 0) {
    const i = stackNode[sp - 1]!;
    let j = stackEdge[sp - 1]!;
    for (; j < s.firstEdge[i + 1]!; j++) {
      if (!strong(s, j)) continue;
      const to = s.edgeTo[j]!;
      if (dfnum[to] !== -1) continue;
      dfnum[to] = count;
      vertex[count++] = to;
      parent[to] = i;
      break;
    }
    if (j < s.firstEdge[i + 1]!) {
      stackEdge[sp - 1] = j + 1;
      const to = s.edgeTo[j]!;
      stackNode[sp] = to;
      stackEdge[sp] = s.firstEdge[to]!;
      sp++;
    } else {
      sp--;
    }
  }
  const semi = new Int32Array(n); // as a dfnum
  const ancestor = new Int32Array(n).fill(-1);
  const label = new Uint32Array(n);
  const idom = new Int32Array(n).fill(-1);
  const bucketHead = new Int32Array(n).fill(-1);
  const bucketNext = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    semi[i] = dfnum[i]!;
    label[i] = i;
  }
  const chain: number[] = [];
  const evaluate = (v: number): number => {
    if (ancestor[v] === -1) return v;
    let x = v;
    while (ancestor[ancestor[x]!] !== -1) {
      chain.push(x);
      x = ancestor[x]!;
    }
    while (chain.length > 0) {
      const y = chain.pop()!;
      const a = ancestor[y]!;
      if (semi[label[a]!]! < semi[label[y]!]!) label[y] = label[a]!;
      ancestor[y] = ancestor[a]!;
    }
    return label[v]!;
  };
  for (let k = count - 1; k >= 1; k--) {
    const w = vertex[k]!;
    for (let r = s.firstRetainer[w]!; r < s.firstRetainer[w + 1]!; r++) {
      if (!strong(s, s.retainerEdge[r]!)) continue;
      const v = s.retainerNode[r]!;
      if (dfnum[v] === -1) continue;
      const u = evaluate(v);
      if (semi[u]! < semi[w]!) semi[w] = semi[u]!;
    }
    const sv = vertex[semi[w]!]!;
    bucketNext[w] = bucketHead[sv]!;
    bucketHead[sv] = w;
    const p = parent[w]!;
    ancestor[w] = p;
    for (let v = bucketHead[p]!; v !== -1; v = bucketNext[v]!) {
      const u = evaluate(v);
      idom[v] = semi[u]! < semi[v]! ? u : p;
    }
    bucketHead[p] = -1;
  }
  for (let k = 1; k < count; k++) {
    const w = vertex[k]!;
    if (idom[w] !== vertex[semi[w]!]) idom[w] = idom[idom[w]!]!;
  }
  idom[0] = 0;
  for (let i = 0; i < n; i++) s.retained[i] = dfnum[i] === -1 ? 0 : s.selfSize[i]!;
  // Children before their dominators: reverse preorder.
  for (let k = count - 1; k >= 1; k--) {
    const w = vertex[k]!;
    s.retained[idom[w]!]! += s.retained[w]!;
  }
  s.idom = idom;
  s.preorder = vertex.slice(0, count);
}

/**
 * Retained size per class: the sum over its instances that no other instance of the same class
 * dominates (a linked list of 1000 nodes counts once, at its head), by a walk down the dominator tree.
 */
function classRetained(s: Snapshot): Map<string, number> {
  const n = s.nodeCount;
  const childCount = new Uint32Array(n + 1);
  for (const w of s.preorder) if (w !== 0) childCount[s.idom[w]!]!++;
  const first = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) first[i + 1] = first[i]! + childCount[i]!;
  const fill = first.slice(0, n);
  const children = new Uint32Array(first[n]!);
  for (const w of s.preorder) if (w !== 0) children[fill[s.idom[w]!]!++] = w;
  const active = new Map<string, number>();
  const out = new Map<string, number>();
  const stack: number[] = [0];
  const leaving: boolean[] = [false];
  while (stack.length > 0) {
    const v = stack.pop()!;
    const leave = leaving.pop()!;
    const c = classOf(s, v);
    if (leave) {
      active.set(c, active.get(c)! - 1);
      continue;
    }
    if (!active.get(c)) out.set(c, (out.get(c) ?? 0) + s.retained[v]!);
    active.set(c, (active.get(c) ?? 0) + 1);
    stack.push(v);
    leaving.push(true);
    for (let k = first[v]!; k < first[v + 1]!; k++) {
      stack.push(children[k]!);
      leaving.push(false);
    }
  }
  return out;
}

function classOf(s: Snapshot, i: number): string {
  const t = s.type[i]!;
  if (t === 'object' || t === 'native') return s.name[i]!;
  if (t === 'closure') return `(closure) ${s.name[i] || '(anonymous)'}`;
  return `(${t})`;
}

interface ClassStats {
  count: number;
  self: number;
  retained: number;
}

function byClass(s: Snapshot, filter?: (i: number) => boolean): Map<string, ClassStats> {
  const out = new Map<string, ClassStats>();
  for (let i = 0; i < s.nodeCount; i++) {
    if (s.distance[i] === -1) continue; // unreachable: garbage the snapshot still listed
    if (filter && !filter(i)) continue;
    const c = classOf(s, i);
    let st = out.get(c);
    if (!st) out.set(c, (st = { count: 0, self: 0, retained: 0 }));
    st.count++;
    st.self += s.selfSize[i]!;
  }
  if (!filter) for (const [c, r] of classRetained(s)) if (out.has(c)) out.get(c)!.retained = r;
  return out;
}

/**
 * Shortest strong retainer path from node i back to the GC roots, as "class .edge" steps; runs of
 * the same step (a linked list: promise reactions, say) are shown once with their length.
 */
function retainerPath(s: Snapshot, i: number): string {
  const steps: string[] = [];
  let cur = i;
  for (let guard = 0; guard < 1_000_000 && cur !== 0; guard++) {
    let best = -1;
    let bestEdge = -1;
    for (let r = s.firstRetainer[cur]!; r < s.firstRetainer[cur + 1]!; r++) {
      const e = s.retainerEdge[r]!;
      if (!strong(s, e)) continue;
      const p = s.retainerNode[r]!;
      if (s.distance[p] === -1) continue;
      if (best === -1 || s.distance[p]! < s.distance[best]!) {
        best = p;
        bestEdge = e;
      }
    }
    if (best === -1) break;
    steps.push(`${classOf(s, best)} .${s.edgeName[bestEdge]}`);
    cur = best;
  }
  const runs: string[] = [];
  for (let k = 0; k < steps.length;) {
    let n = 1;
    while (k + n < steps.length && steps[k + n] === steps[k]) n++;
    runs.push(n > 1 ? `${steps[k]} (×${n})` : steps[k]!);
    k += n;
  }
  const shown = runs.length > 12 ? [...runs.slice(0, 8), '…', ...runs.slice(-3)] : runs;
  return `${classOf(s, i)} ← ${shown.join(' ← ')}`;
}

const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

function main(): void {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const opt = (name: string, d: number) =>
    Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
  const top = opt('top', 25);
  const paths = opt('paths', 3);
  if (files.length !== 2) {
    process.stderr.write(
      'usage: node dist/bench/heap-diff.js <before.heapsnapshot> <after.heapsnapshot> [--top=25] [--paths=3]\n',
    );
    process.exit(2);
  }
  const a = load(files[0]!);
  const b = load(files[1]!);
  const total = (s: Snapshot) => {
    let t = 0;
    for (let i = 0; i < s.nodeCount; i++) if (s.distance[i] !== -1) t += s.selfSize[i]!;
    return t;
  };
  process.stdout.write(
    `before: ${a.nodeCount} nodes, ${(total(a) / 1048576).toFixed(1)} MB reachable; after: ${b.nodeCount} nodes, ${(total(b) / 1048576).toFixed(1)} MB reachable\n\n`,
  );

  const ca = byClass(a);
  const cb = byClass(b);
  const rows = [...new Set([...ca.keys(), ...cb.keys()])].map((c) => {
    const x = ca.get(c) ?? { count: 0, self: 0, retained: 0 };
    const y = cb.get(c) ?? { count: 0, self: 0, retained: 0 };
    return {
      c,
      dCount: y.count - x.count,
      dSelf: y.self - x.self,
      dRetained: y.retained - x.retained,
      count: y.count,
      self: y.self,
      retained: y.retained,
    };
  });
  rows.sort((p, q) => q.dSelf - p.dSelf);
  process.stdout.write(`classes by growth of self size (top ${top}):\n`);
  const header = `${'Δ count'.padStart(10)} ${'Δ self'.padStart(12)} ${'Δ retained'.padStart(12)} ${'count'.padStart(10)} ${'self'.padStart(12)} ${'retained'.padStart(12)}  class\n`;
  const line = (r: (typeof rows)[number]) =>
    `${String(r.dCount).padStart(10)} ${kb(r.dSelf).padStart(12)} ${kb(r.dRetained).padStart(12)} ${String(r.count).padStart(10)} ${kb(r.self).padStart(12)} ${kb(r.retained).padStart(12)}  ${r.c}\n`;
  process.stdout.write(header);
  for (const r of rows.slice(0, top)) process.stdout.write(line(r));
  process.stdout.write(
    `\nclasses by growth of retained size (top ${top}; retained: instances not held by another of their class):\n${header}`,
  );
  for (const r of [...rows].sort((p, q) => q.dRetained - p.dRetained).slice(0, top)) process.stdout.write(line(r));

  // Objects that are new since the first snapshot and still alive.
  const oldIds = new Set<number>();
  for (let i = 0; i < a.nodeCount; i++) oldIds.add(a.id[i]!);
  const fresh = byClass(b, (i) => !oldIds.has(b.id[i]!));
  const freshRows = [...fresh.entries()].sort((p, q) => q[1].self - p[1].self);
  process.stdout.write(`\nobjects new since the first snapshot and still alive, by class (top ${top}):\n`);
  for (const [c, st] of freshRows.slice(0, top))
    process.stdout.write(`${String(st.count).padStart(10)} ${kb(st.self).padStart(12)}  ${c}\n`);

  // The biggest retainers of new objects: sum the self size of new objects per immediate-retainer chain.
  process.stdout.write(`\nretainer paths of new objects (shortest strong path from the GC roots):\n`);
  for (const [c] of freshRows.slice(0, 5)) {
    const picks: number[] = [];
    for (let i = b.nodeCount - 1; i >= 0 && picks.length < paths * 20; i--) {
      if (b.distance[i] !== -1 && classOf(b, i) === c && !oldIds.has(b.id[i]!)) picks.push(i);
    }
    const seen = new Map<string, number>();
    for (const i of picks) {
      const p = retainerPath(b, i);
      seen.set(p, (seen.get(p) ?? 0) + 1);
    }
    process.stdout.write(`  ${c}:\n`);
    for (const [p, k] of [...seen.entries()].sort((x, y) => y[1] - x[1]).slice(0, paths))
      process.stdout.write(`    ${k}/${picks.length}: ${p}\n`);
  }

  // Largest retained sizes in the second snapshot: which single objects hold the most.
  const big: number[] = [];
  for (let i = 1; i < b.nodeCount; i++)
    if (b.distance[i] !== -1 && b.type[i] !== 'synthetic' && b.type[i] !== 'hidden') big.push(i);
  big.sort((p, q) => b.retained[q]! - b.retained[p]!);
  process.stdout.write(`\nlargest retained sizes after (objects other than roots):\n`);
  for (const i of big.slice(0, 15))
    process.stdout.write(
      `${kb(b.retained[i]!).padStart(12)}  ${classOf(b, i)} (id ${b.id[i]})  ← ${retainerPath(b, i).split(' ← ').slice(1, 4).join(' ← ')}\n`,
    );
}

main();
