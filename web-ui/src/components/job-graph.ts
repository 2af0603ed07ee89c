// The job graph: one box per JobVertex laid out left to right with dagre, edges labelled by
// ship strategy. Layout runs only when the graph's shape changes; polls update text in place.

import dagre from '@dagrejs/dagre';
import { h, setText } from '../dom.js';
import { formatCount, formatRate } from '../format.js';
import { recordsIn, recordsOut, type JobDetails, type JobVertex } from '../types.js';
import type { VertexRates } from '../rates.js';
import { setBadge, stateBadge, stateClass } from './state.js';

const NODE_W = 250;
const NODE_H = 190;
const SVG_NS = 'http://www.w3.org/2000/svg';

interface GraphEdge {
  from: string;
  to: string;
  label: string;
}

interface VertexBox {
  el: HTMLElement;
  name: HTMLElement;
  parallelism: HTMLElement;
  badge: HTMLElement;
  readRecords: HTMLElement;
  writeRecords: HTMLElement;
  readRate: HTMLElement;
  writeRate: HTMLElement;
  watermark: HTMLElement;
  state: HTMLElement;
  lag: HTMLElement;
  load: HTMLElement;
}

/** Edges of the job graph from the plan: each plan input is an edge from that input into the node. */
export function planEdges(job: JobDetails): GraphEdge[] {
  const ids = new Set(job.vertices.map((v) => v.id));
  const edges: GraphEdge[] = [];
  for (const node of job.plan?.nodes ?? []) {
    for (const input of node.inputs ?? []) {
      if (ids.has(input.id) && ids.has(node.id)) {
        edges.push({ from: input.id, to: node.id, label: (input.ship_strategy ?? input.exchange ?? '').toUpperCase() });
      }
    }
  }
  return edges;
}

export class JobGraphView {
  readonly el: HTMLElement;
  private readonly canvas: HTMLElement;
  private readonly svg: SVGSVGElement;
  private boxes = new Map<string, VertexBox>();
  private shape = '';
  private selected: string | undefined;

  /** `onSelect` hears clicks on a box (undefined when the same box is clicked again). */
  constructor(private readonly onSelect?: (vertexId: string | undefined) => void) {
    this.svg = document.createElementNS(SVG_NS, 'svg');
    this.svg.classList.add('graph-edges');
    this.canvas = h('div', { class: 'graph-canvas' });
    this.el = h('div', { class: 'graph-scroll', 'data-testid': 'job-graph' }, loadLegend(), this.canvas);
  }

  update(job: JobDetails, rates: Map<string, VertexRates>): void {
    const edges = planEdges(job);
    const shape = JSON.stringify([job.vertices.map((v) => v.id), edges]);
    if (shape !== this.shape) {
      this.shape = shape;
      this.layout(job.vertices, edges);
    }
    for (const v of job.vertices) {
      const box = this.boxes.get(v.id);
      if (box) fill(box, v, rates.get(v.id), v.id === this.selected);
    }
  }

  private select(id: string | undefined): void {
    this.selected = id;
    for (const [vid, box] of this.boxes) box.el.classList.toggle('selected', vid === id);
    this.onSelect?.(id);
  }

  private layout(vertices: JobVertex[], edges: GraphEdge[]): void {
    const g = new dagre.graphlib.Graph<object, { width: number; height: number; x?: number; y?: number }>();
    g.setGraph({ rankdir: 'LR', nodesep: 36, ranksep: 90, marginx: 16, marginy: 16 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const v of vertices) g.setNode(v.id, { width: NODE_W, height: NODE_H });
    for (const e of edges) {
      // Edge labels take part in the layout so they never sit on top of a box.
      g.setEdge(e.from, e.to, { label: e.label, width: e.label.length * 7 + 12, height: 18, labelpos: 'c' });
    }
    dagre.layout(g);
    const size = g.graph() as { width?: number; height?: number };
    const width = Math.ceil(size.width ?? 0);
    const height = Math.ceil(size.height ?? 0);

    this.boxes.clear();
    this.canvas.replaceChildren(this.svg);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.svg.setAttribute('width', String(width));
    this.svg.setAttribute('height', String(height));
    this.svg.replaceChildren(arrowMarker());

    for (const e of g.edges()) {
      const label = g.edge(e) as { points?: { x: number; y: number }[]; x?: number; y?: number; label?: string };
      const pts = label.points ?? [];
      if (pts.length < 2) continue;
      const path = document.createElementNS(SVG_NS, 'path');
      path.setAttribute('d', smoothPath(pts));
      path.setAttribute('class', 'graph-edge');
      path.setAttribute('marker-end', 'url(#graph-arrow)');
      this.svg.appendChild(path);
      if (label.label && label.x != null && label.y != null) {
        const tag = h('div', { class: 'graph-edge-label' }, label.label);
        tag.style.left = `${label.x}px`;
        tag.style.top = `${label.y}px`;
        this.canvas.appendChild(tag);
      }
    }

    for (const v of vertices) {
      const n = g.node(v.id);
      const box = makeBox(v);
      box.el.style.left = `${(n.x ?? 0) - NODE_W / 2}px`;
      box.el.style.top = `${(n.y ?? 0) - NODE_H / 2}px`;
      box.el.style.width = `${NODE_W}px`;
      box.el.style.height = `${NODE_H}px`;
      box.el.addEventListener('click', () => this.select(this.selected === v.id ? undefined : v.id));
      this.canvas.appendChild(box.el);
      this.boxes.set(v.id, box);
    }
  }
}

function makeBox(v: JobVertex): VertexBox {
  const name = h('div', { class: 'vertex-name' });
  const parallelism = h('span', { class: 'vertex-parallelism' });
  const badge = stateBadge(v.status);
  const readRecords = h('span', { class: 'num', 'data-metric': 'read-records' });
  const writeRecords = h('span', { class: 'num', 'data-metric': 'write-records' });
  const readRate = h('span', { class: 'rate' });
  const writeRate = h('span', { class: 'rate' });
  const watermark = h('span', { class: 'num', 'data-metric': 'watermark' });
  const state = h('span', { class: 'num', 'data-metric': 'state-entries' });
  const lag = h('span', { class: 'num', 'data-metric': 'sink-lag' });
  const load = h('span', { class: 'num', 'data-metric': 'load' });
  const el = h(
    'div',
    { class: 'vertex', 'data-vertex-id': v.id },
    name,
    h('div', { class: 'vertex-meta' }, parallelism, badge),
    h(
      'div',
      { class: 'vertex-metrics' },
      h('div', null, h('span', { class: 'label' }, 'Records in'), readRecords, readRate),
      h('div', null, h('span', { class: 'label' }, 'Records out'), writeRecords, writeRate),
      h('div', null, h('span', { class: 'label' }, 'Watermark'), watermark),
      h('div', null, h('span', { class: 'label' }, 'State'), state),
      h(
        'div',
        { title: "event-time lag of records at this vertex's sinks (now - record timestamp), p50 / p99" },
        h('span', { class: 'label' }, 'Sink lag'),
        lag,
      ),
      h(
        'div',
        {
          title:
            "share of the last seconds the busiest subtask spent busy / backpressured / idle (Flink's busyTimeMsPerSecond, backPressuredTimeMsPerSecond, idleTimeMsPerSecond)",
        },
        h('span', { class: 'label' }, 'Busy/BP/Idle'),
        load,
      ),
    ),
  );
  return { el, name, parallelism, badge, readRecords, writeRecords, readRate, writeRate, watermark, state, lag, load };
}

function fill(box: VertexBox, v: JobVertex, rates: VertexRates | undefined, selected: boolean): void {
  setText(box.name, v.name);
  box.name.title = v.name;
  setText(box.parallelism, `Parallelism ${v.parallelism}`);
  setBadge(box.badge, v.status);
  box.el.className = `vertex vertex-${stateClass(v.status)}${selected ? ' selected' : ''}`;
  setText(box.readRecords, formatCount(recordsIn(v.metrics)));
  setText(box.writeRecords, formatCount(recordsOut(v.metrics)));
  setText(box.readRate, rates ? formatRate(rates.readPerSecond) : '');
  setText(box.writeRate, rates ? formatRate(rates.writePerSecond) : '');
  setText(box.watermark, formatWatermark(v.watermark));
  setText(box.state, `${formatCount(v.metrics?.['state-entries'] ?? 0)} entries`);
  const p50 = v.metrics?.['sink-lag-p50'];
  const p99 = v.metrics?.['sink-lag-p99'];
  setText(box.lag, p50 === null || p50 === undefined || p99 === null || p99 === undefined ? '—' : `${p50} / ${p99} ms`);
  fillLoad(box, v);
}

/** Flink's job graph colours: idle is blue, busy red, backpressured black, mixes in between. */
const IDLE_RGB = [70, 130, 220];
const BUSY_RGB = [220, 40, 40];
const BACKPRESSURED_RGB = [20, 20, 20];

/** The colour of a vertex by its time shares (ms per second, adding up to about 1000). */
export function loadColour(busy: number, backPressured: number, idle: number): string {
  const total = busy + backPressured + idle || 1;
  const mix = (i: number) =>
    Math.round((BUSY_RGB[i]! * busy + BACKPRESSURED_RGB[i]! * backPressured + IDLE_RGB[i]! * idle) / total);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

function fillLoad(box: VertexBox, v: JobVertex): void {
  const m = v.metrics;
  const running = v.status === 'RUNNING' && m?.busyTimeMsPerSecond !== undefined;
  const busy = m?.busyTimeMsPerSecond ?? 0;
  const bp = m?.backPressuredTimeMsPerSecond ?? 0;
  const idle = m?.idleTimeMsPerSecond ?? 0;
  // Attributes for tools and tests; the colour only while the vertex runs (as Flink: none without measurements).
  box.el.dataset.busy = String(busy);
  box.el.dataset.backpressured = String(bp);
  box.el.dataset.idle = String(idle);
  const pct = (x: number) => `${Math.round(x / 10)}%`;
  setText(box.load, running ? `${pct(busy)} / ${pct(bp)} / ${pct(idle)}` : '—');
  const colour = running ? loadColour(busy, bp, idle) : '';
  box.el.style.setProperty('--load', colour || 'transparent');
  box.el.classList.toggle('vertex-loaded', running);
  box.el.classList.toggle('vertex-backpressured', running && bp > 500);
}

function loadLegend(): HTMLElement {
  const swatch = (label: string, colour: string) =>
    h('span', { class: 'legend-item' }, h('span', { class: 'legend-swatch', style: `background: ${colour}` }), label);
  return h(
    'div',
    {
      class: 'graph-legend',
      title: "vertices are coloured by their busiest subtask over the last seconds, as in Flink's web UI",
    },
    swatch('Idle', loadColour(0, 0, 1000)),
    swatch('Busy', loadColour(1000, 0, 0)),
    swatch('Backpressured', loadColour(0, 1000, 0)),
    h('span', { class: 'legend-note' }, 'mixed in proportion to busy / backpressured / idle time'),
  );
}

/** Event time as a clock time, 'end' for the final watermark, '—' before the first one. */
function formatWatermark(wm: number | null | undefined): string {
  if (wm === null || wm === undefined) return '—';
  if (wm >= Number.MAX_SAFE_INTEGER) return 'end of input';
  const d = new Date(wm);
  return Number.isNaN(d.getTime()) ? String(wm) : d.toISOString().replace('T', ' ').replace('Z', '');
}

function arrowMarker(): SVGDefsElement {
  const defs = document.createElementNS(SVG_NS, 'defs');
  const marker = document.createElementNS(SVG_NS, 'marker');
  marker.setAttribute('id', 'graph-arrow');
  marker.setAttribute('viewBox', '0 0 10 10');
  marker.setAttribute('refX', '9');
  marker.setAttribute('refY', '5');
  marker.setAttribute('markerWidth', '8');
  marker.setAttribute('markerHeight', '8');
  marker.setAttribute('orient', 'auto-start-reverse');
  const tip = document.createElementNS(SVG_NS, 'path');
  tip.setAttribute('d', 'M 0 0 L 10 5 L 0 10 z');
  tip.setAttribute('class', 'graph-arrow');
  marker.appendChild(tip);
  defs.appendChild(marker);
  return defs;
}

/** A curve through dagre's control points (midpoint quadratic smoothing). */
function smoothPath(pts: { x: number; y: number }[]): string {
  let d = `M ${pts[0]!.x} ${pts[0]!.y}`;
  for (let i = 1; i < pts.length - 1; i++) {
    const p = pts[i]!;
    const next = pts[i + 1]!;
    d += ` Q ${p.x} ${p.y} ${(p.x + next.x) / 2} ${(p.y + next.y) / 2}`;
  }
  const last = pts[pts.length - 1]!;
  return `${d} L ${last.x} ${last.y}`;
}
