// Plain nested-loop references for stream-stream joins over the whole input. With no late data
// (disorder below the watermark bound) a join's result does not depend on timing, so these are
// the exact results as multisets.
//  - window join: per key and window, every pair of a left and a right element in the window;
//    sessions merge per key over the union of both sides' elements (touching windows merge);
//  - coGroup: per key and window with any element, both sides' elements;
//  - interval join: every pair with equal keys and lower <= rts - lts <= upper (bounds made
//    exclusive on request).
import { nexmarkEvent, type Auction, type NexmarkConfig, type Person } from 'weir/nexmark';
import { localItemLine, newUserLine, q3Auction, q3Person, tumblingStart } from '../../examples/nexmark/joins.js';
import { assignWindows, type RefAssigner, type RefWindow } from './windows.js';

export interface JoinSpec<L, R, K> {
  assigner: RefAssigner;
  leftKey(l: L): K;
  rightKey(r: R): K;
  leftTs(l: L): number;
  rightTs(r: R): number;
}

export interface WindowGroup<L, R, K> {
  key: K;
  window: RefWindow;
  lefts: L[];
  rights: R[];
}

/** Every (key, window) with its elements of both sides, in input order per side. */
export function windowGroups<L, R, K>(
  lefts: readonly L[],
  rights: readonly R[],
  spec: JoinSpec<L, R, K>,
): WindowGroup<L, R, K>[] {
  type Tagged = { side: 0; v: L; ts: number } | { side: 1; v: R; ts: number };
  const byKey = new Map<string, { key: K; elements: Tagged[] }>();
  const add = (key: K, t: Tagged) => {
    const id = JSON.stringify(key);
    let e = byKey.get(id);
    if (!e) byKey.set(id, (e = { key, elements: [] }));
    e.elements.push(t);
  };
  for (const l of lefts) add(spec.leftKey(l), { side: 0, v: l, ts: spec.leftTs(l) });
  for (const r of rights) add(spec.rightKey(r), { side: 1, v: r, ts: spec.rightTs(r) });

  const groups: WindowGroup<L, R, K>[] = [];
  for (const { key, elements } of byKey.values()) {
    const windows = new Map<string, WindowGroup<L, R, K>>();
    const put = (w: RefWindow, t: Tagged) => {
      const id = `${w.start}:${w.end}`;
      let g = windows.get(id);
      if (!g) windows.set(id, (g = { key, window: w, lefts: [], rights: [] }));
      if (t.side === 0) g.lefts.push(t.v);
      else g.rights.push(t.v);
    };
    if (spec.assigner.kind === 'session') {
      const gap = spec.assigner.gap;
      // Sessions over the union: a new one starts where the next element lies beyond the current end.
      const sorted = [...elements].sort((a, b) => a.ts - b.ts);
      let i = 0;
      while (i < sorted.length) {
        let j = i;
        let end = sorted[i]!.ts + gap;
        while (j + 1 < sorted.length && sorted[j + 1]!.ts <= end) end = Math.max(end, sorted[++j]!.ts + gap);
        const w = { start: sorted[i]!.ts, end };
        // Input order within the session, as the window sees them.
        const members = new Set(sorted.slice(i, j + 1));
        for (const t of elements) if (members.has(t)) put(w, t);
        i = j + 1;
      }
    } else {
      for (const t of elements) for (const w of assignWindows(spec.assigner, t.ts)) put(w, t);
    }
    groups.push(...windows.values());
  }
  return groups;
}

/** Window join: the cross product per key and window. */
export function referenceWindowJoin<L, R, K>(
  lefts: readonly L[],
  rights: readonly R[],
  spec: JoinSpec<L, R, K>,
  line: (l: L, r: R) => string,
): string[] {
  const out: string[] = [];
  for (const g of windowGroups(lefts, rights, spec))
    for (const l of g.lefts) for (const r of g.rights) out.push(line(l, r));
  return out;
}

/** coGroup: one call per key and window with any element. */
export function referenceCoGroup<L, R, K>(
  lefts: readonly L[],
  rights: readonly R[],
  spec: JoinSpec<L, R, K>,
  line: (ls: L[], rs: R[]) => string,
): string[] {
  return windowGroups(lefts, rights, spec).map((g) => line(g.lefts, g.rights));
}

export interface IntervalBounds {
  lower: number;
  upper: number;
  lowerExclusive: boolean;
  upperExclusive: boolean;
}

/** Interval join: all pairs with equal keys and rts - lts within the bounds, nested loops per key. */
export function referenceIntervalJoin<L, R, K>(
  lefts: readonly L[],
  rights: readonly R[],
  spec: Omit<JoinSpec<L, R, K>, 'assigner'>,
  bounds: IntervalBounds,
  line: (l: L, r: R, lts: number, rts: number, ts: number) => string,
): string[] {
  const lo = bounds.lower + (bounds.lowerExclusive ? 1 : 0);
  const hi = bounds.upper - (bounds.upperExclusive ? 1 : 0);
  const rightsByKey = new Map<string, R[]>();
  for (const r of rights) {
    const id = JSON.stringify(spec.rightKey(r));
    (rightsByKey.get(id) ?? rightsByKey.set(id, []).get(id)!).push(r);
  }
  const out: string[] = [];
  for (const l of lefts) {
    const lts = spec.leftTs(l);
    for (const r of rightsByKey.get(JSON.stringify(spec.leftKey(l))) ?? []) {
      const rts = spec.rightTs(r);
      const d = rts - lts;
      if (d >= lo && d <= hi) out.push(line(l, r, lts, rts, Math.max(lts, rts)));
    }
  }
  return out;
}

export function personsAndAuctions(count: number, config: NexmarkConfig): { persons: Person[]; auctions: Auction[] } {
  const persons: Person[] = [];
  const auctions: Auction[] = [];
  for (let i = 0; i < count; i++) {
    const e = nexmarkEvent(i, config);
    if (e.type === 'person') persons.push(e.person);
    else if (e.type === 'auction') auctions.push(e.auction);
  }
  return { persons, auctions };
}

/** q3: every auction in the category whose seller is a person in the states (whatever came first). */
export function referenceQ3(persons: readonly Person[], auctions: readonly Auction[]): string[] {
  const out: string[] = [];
  for (const p of persons) {
    if (!q3Person(p)) continue;
    for (const a of auctions) {
      if (q3Auction(a) && a.seller === p.id)
        out.push(localItemLine({ name: p.name, city: p.city, state: p.state, auction: a.id }));
    }
  }
  return out;
}

/** q8: every (person, auction) with seller = id in the same tumbling window. */
export function referenceQ8(persons: readonly Person[], auctions: readonly Auction[], sizeMs: number): string[] {
  const out: string[] = [];
  for (const p of persons) {
    const start = tumblingStart(p.dateTime, sizeMs);
    for (const a of auctions) {
      if (a.seller === p.id && tumblingStart(a.dateTime, sizeMs) === start)
        out.push(newUserLine({ id: p.id, name: p.name, windowStart: start }));
    }
  }
  return out;
}
