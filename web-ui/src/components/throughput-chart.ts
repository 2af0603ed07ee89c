// Records per second over time, one line per vertex, drawn with uPlot.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../dom.js';
import { compact, formatRate } from '../format.js';
import type { SeriesHistory } from '../rates.js';

export interface ChartSeries {
  key: string;
  label: string;
}

const PALETTE = [
  '#1677ff',
  '#52c41a',
  '#fa8c16',
  '#eb2f96',
  '#13c2c2',
  '#722ed1',
  '#faad14',
  '#2f54eb',
  '#a0d911',
  '#f5222d',
];
const HEIGHT = 220;
const WINDOW_SECONDS = 60;

export class ThroughputChart {
  readonly el: HTMLElement;
  private plot: uPlot | undefined;
  private signature = '';
  private readonly resize: ResizeObserver;

  constructor() {
    this.el = h('div', { class: 'chart', 'data-testid': 'throughput-chart' });
    this.resize = new ResizeObserver(() => {
      if (this.plot && this.el.clientWidth > 0) this.plot.setSize({ width: this.el.clientWidth, height: HEIGHT });
    });
    this.resize.observe(this.el);
  }

  update(history: SeriesHistory, series: ChartSeries[]): void {
    const signature = JSON.stringify(series);
    if (!this.plot || signature !== this.signature) {
      this.signature = signature;
      this.plot?.destroy();
      this.plot = new uPlot(this.options(series), this.data(history, series), this.el);
      return;
    }
    this.plot.setData(this.data(history, series));
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private data(history: SeriesHistory, series: ChartSeries[]): uPlot.AlignedData {
    return [history.times, ...series.map((s) => history.get(s.key))] as uPlot.AlignedData;
  }

  private options(series: ChartSeries[]): uPlot.Options {
    return {
      width: Math.max(this.el.clientWidth, 300),
      height: HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: {
        // At least a minute wide, so the axis reads in seconds rather than milliseconds.
        x: { time: true, range: (_u, min, max) => [Math.min(min, max - WINDOW_SECONDS), max] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: '#5b6577', grid: { stroke: '#eef0f4' } },
        {
          stroke: '#5b6577',
          grid: { stroke: '#eef0f4' },
          size: 56,
          values: (_u, ticks) => ticks.map((t) => compact(t)),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          spanGaps: false,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : formatRate(v)),
        })),
      ],
    };
  }
}
