// Flink's busy/idle/backpressured time rates, on a clock the test moves.
import { describe, expect, it } from 'vitest';
import { TaskTimeMeter } from '../../taskmanager/runtime/task-time-meter.js';
import { backPressureLevel, vertexBackPressure, type VertexView } from '../../jobmanager/rest/vertex-json.js';
import { aggregatedMetrics, metricCollection } from '../../jobmanager/rest/metric-json.js';

function clocked(windowMs = 5000) {
  let t = 1000;
  const meter = new TaskTimeMeter(() => t, windowMs);
  return { meter, advance: (ms: number) => (t += ms) };
}

describe('TaskTimeMeter', () => {
  it('splits each second into busy, idle and backpressured time that add up to 1000', () => {
    const { meter, advance } = clocked();
    // 1 s: 200 ms busy, 500 ms idle, 300 ms backpressured.
    advance(200);
    meter.startWait('idle');
    advance(500);
    meter.endWait();
    meter.startWait('backPressured');
    advance(300);
    meter.endWait();
    expect(meter.rates()).toEqual({
      busyTimeMsPerSecond: 200,
      idleTimeMsPerSecond: 500,
      backPressuredTimeMsPerSecond: 300,
    });
    expect(meter.totals()).toEqual({ busyMs: 200, idleMs: 500, backPressuredMs: 300 });
  });

  it('counts a wait still in progress up to the read', () => {
    const { meter, advance } = clocked();
    meter.startWait('backPressured');
    advance(2000);
    expect(meter.rates().backPressuredTimeMsPerSecond).toBe(1000);
    advance(2000);
    meter.endWait();
    expect(meter.totals().backPressuredMs).toBe(4000);
  });

  it('forgets what is older than the window', () => {
    const { meter, advance } = clocked(5000);
    // 10 s idle, read every 500 ms, then 10 s busy.
    for (let i = 0; i < 20; i++) {
      meter.startWait('idle');
      advance(500);
      meter.endWait();
      meter.rates();
    }
    expect(meter.rates().idleTimeMsPerSecond).toBe(1000);
    for (let i = 0; i < 6; i++) {
      advance(500);
      meter.rates();
    }
    // 3 s of the last 5 s were busy.
    expect(meter.rates()).toEqual({
      busyTimeMsPerSecond: 600,
      idleTimeMsPerSecond: 400,
      backPressuredTimeMsPerSecond: 0,
    });
    for (let i = 0; i < 10; i++) {
      advance(500);
      meter.rates();
    }
    expect(meter.rates()).toEqual({
      busyTimeMsPerSecond: 1000,
      idleTimeMsPerSecond: 0,
      backPressuredTimeMsPerSecond: 0,
    });
  });

  it('a new wait closes one left open, and a read at the start is all zeros', () => {
    const { meter, advance } = clocked();
    expect(meter.rates()).toEqual({ busyTimeMsPerSecond: 0, idleTimeMsPerSecond: 0, backPressuredTimeMsPerSecond: 0 });
    meter.startWait('idle');
    advance(100);
    meter.startWait('backPressured');
    advance(300);
    expect(meter.endWait()).toBe(300);
    expect(meter.endWait()).toBe(0);
    expect(meter.totals()).toEqual({ busyMs: 0, idleMs: 100, backPressuredMs: 300 });
  });
});

describe('backpressure and metrics JSON', () => {
  const subtask = (i: number, status: string, bp: number, idle: number) => ({
    subtask: i,
    status,
    attempt: 0,
    'taskmanager-id': 'tm',
    endpoint: '127.0.0.1:1',
    'start-time': 1,
    timestamps: {},
    metrics: {
      backPressuredTimeMsPerSecond: bp,
      idleTimeMsPerSecond: idle,
      busyTimeMsPerSecond: 1000 - bp - idle,
      'read-records': 10 * (i + 1),
    },
    watermark: null,
  });
  const vertex = (subtasks: ReturnType<typeof subtask>[]): VertexView => ({
    id: 'v',
    name: 'V',
    parallelism: subtasks.length,
    maxParallelism: 128,
    status: 'RUNNING',
    metrics: {},
    subtasks,
  });

  it("uses Flink's thresholds: ok up to 10 %, low up to 50 %, high above", () => {
    expect(backPressureLevel(0.1)).toBe('ok');
    expect(backPressureLevel(0.101)).toBe('low');
    expect(backPressureLevel(0.5)).toBe('low');
    expect(backPressureLevel(0.501)).toBe('high');
  });

  it('reports the worst running subtask as the level of the vertex', () => {
    const bp = vertexBackPressure(vertex([subtask(0, 'RUNNING', 50, 900), subtask(1, 'RUNNING', 800, 0)]), 42);
    expect(bp).toEqual({
      status: 'ok',
      'backpressure-level': 'high',
      'end-timestamp': 42,
      subtasks: [
        { subtask: 0, 'attempt-number': 0, 'backpressure-level': 'ok', ratio: 0.05, idleRatio: 0.9, busyRatio: 0.05 },
        { subtask: 1, 'attempt-number': 0, 'backpressure-level': 'high', ratio: 0.8, idleRatio: 0, busyRatio: 0.2 },
      ],
    });
    expect(vertexBackPressure(vertex([subtask(0, 'FINISHED', 0, 0)]))).toEqual({ status: 'deprecated' });
  });

  it('answers requested metric ids with string values, and aggregates over subtasks', () => {
    expect(metricCollection({ a: '1', b: '2' }, 'b,nope')).toEqual([{ id: 'b', value: '2' }]);
    expect(metricCollection({ a: '1', b: '2' }, undefined)).toEqual([{ id: 'a' }, { id: 'b' }]);
    // A repeated parameter is one list; __proto__ and friends name no metric.
    expect(metricCollection({ a: '1', b: '2' }, ['a', 'b,__proto__'])).toEqual([
      { id: 'a', value: '1' },
      { id: 'b', value: '2' },
    ]);
    const agg = aggregatedMetrics([{ x: '1' }, { x: '3' }], 'x', undefined);
    expect(agg).toEqual([{ id: 'x', min: 1, max: 3, avg: 2, sum: 4, skew: 50 }]);
    expect(aggregatedMetrics([{ x: '1' }, { x: '3' }], 'x', 'max,sum')).toEqual([{ id: 'x', max: 3, sum: 4 }]);
  });
});
