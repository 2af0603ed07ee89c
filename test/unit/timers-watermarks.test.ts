import { describe, expect, it } from 'vitest';
import {
  InternalTimerService,
  MAX_WATERMARK,
  MIN_WATERMARK,
  type InternalTimer,
} from '../../taskmanager/runtime/timer-service.js';
import { StatusWatermarkValve } from '../../taskmanager/runtime/watermark-valve.js';
import { ManualTime } from '../helpers/manual-time.js';

function harness() {
  let key: unknown;
  const fired: { key: unknown; ns: string; ts: number; domain: string; keyAtFire: unknown }[] = [];
  const time = new ManualTime();
  const svc = new InternalTimerService<string>(
    { getCurrentKey: () => key, setCurrentKey: (k) => (key = k) },
    {
      onEventTime: (t: InternalTimer<string>) =>
        fired.push({ key: t.key, ns: t.namespace, ts: t.timestamp, domain: 'event', keyAtFire: key }),
      onProcessingTime: (t: InternalTimer<string>) =>
        fired.push({ key: t.key, ns: t.namespace, ts: t.timestamp, domain: 'processing', keyAtFire: key }),
    },
    time,
    (ns) => ns,
  );
  return { svc, fired, time, setKey: (k: unknown) => (key = k) };
}

describe('InternalTimerService', () => {
  it('fires event-time timers in timestamp order once the watermark passes, with the key set', () => {
    const { svc, fired, setKey } = harness();
    let seed = 7;
    const expected: number[] = [];
    for (let i = 0; i < 500; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      setKey(`k${seed % 13}`);
      const ts = seed % 10_000;
      svc.registerEventTimeTimer('', ts);
      svc.registerEventTimeTimer('', ts); // one timer per key and timestamp
    }
    expect(svc.numEventTimeTimers()).toBeLessThanOrEqual(500);
    svc.advanceWatermark(4_999);
    const firstBatch = fired.map((f) => f.ts);
    expect(firstBatch.every((t) => t <= 4_999)).toBe(true);
    expect([...firstBatch].sort((a, b) => a - b)).toEqual(firstBatch);
    svc.advanceWatermark(MAX_WATERMARK);
    const all = fired.map((f) => f.ts);
    expected.push(...[...all].sort((a, b) => a - b));
    expect(all).toEqual(expected);
    for (const f of fired) expect(f.keyAtFire).toBe(f.key);
    expect(svc.numEventTimeTimers()).toBe(0);
    const dedup = new Set(fired.map((f) => `${f.key}|${f.ts}`));
    expect(dedup.size).toBe(fired.length);
  });

  it('deletes timers and keeps keys and namespaces apart', () => {
    const { svc, fired, setKey } = harness();
    setKey('a');
    svc.registerEventTimeTimer('w1', 10);
    svc.registerEventTimeTimer('w2', 10);
    setKey('b');
    svc.registerEventTimeTimer('w1', 10);
    svc.deleteEventTimeTimer('w1', 10);
    svc.advanceWatermark(10);
    expect(fired.map((f) => `${f.key}:${f.ns}`).sort()).toEqual(['a:w1', 'a:w2']);
    expect(svc.currentWatermark()).toBe(10);
    svc.advanceWatermark(5); // watermarks never go back
    expect(svc.currentWatermark()).toBe(10);
  });

  it('fires processing-time timers through the processing time service', () => {
    const { svc, fired, setKey, time } = harness();
    setKey('x');
    svc.registerProcessingTimeTimer('', 100);
    svc.registerProcessingTimeTimer('', 50);
    svc.registerProcessingTimeTimer('', 200);
    svc.deleteProcessingTimeTimer('', 200);
    time.advance(60);
    expect(fired.map((f) => f.ts)).toEqual([50]);
    time.advance(1000);
    expect(fired.map((f) => f.ts)).toEqual([50, 100]);
    expect(fired.every((f) => f.domain === 'processing')).toBe(true);
  });
});

describe('InternalTimerService snapshots', () => {
  /** Windows as namespaces: snapshots carry their id, restore rebuilds them. */
  const windowIds = {
    serialize: (w: { start: number; end: number }) => `${w.start}:${w.end}`,
    deserialize: (id: string | number) => {
      const [start, end] = String(id).split(':').map(Number);
      return { start: start!, end: end! };
    },
  };

  function service(time: ManualTime) {
    let key: unknown;
    const fired: string[] = [];
    const svc = new InternalTimerService<{ start: number; end: number }>(
      { getCurrentKey: () => key, setCurrentKey: (k) => (key = k) },
      {
        onEventTime: (t) =>
          fired.push(
            `event ${JSON.stringify(t.key)} ${t.namespace.start}:${t.namespace.end} ${t.timestamp} key=${JSON.stringify(key)}`,
          ),
        onProcessingTime: (t) =>
          fired.push(
            `processing ${JSON.stringify(t.key)} ${t.namespace.start}:${t.namespace.end} ${t.timestamp} key=${JSON.stringify(key)}`,
          ),
      },
      time,
      (w) => w.start,
      'window-timers',
      windowIds,
    );
    return { svc, fired, setKey: (k: unknown) => (key = k) };
  }

  it('snapshots live timers as raw keyed entries and restores them into a fresh service that fires the same', () => {
    const time = new ManualTime();
    const a = service(time);
    let seed = 11;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff);
    for (let i = 0; i < 400; i++) {
      a.setKey(i % 3 === 0 ? { user: next() % 7 } : `k${next() % 9}`);
      const start = (next() % 50) * 10;
      const w = { start, end: start + 10 };
      const t = next() % 1000;
      if (next() % 2) a.svc.registerEventTimeTimer(w, t);
      else a.svc.registerProcessingTimeTimer(w, t + 1);
      if (next() % 5 === 0) a.svc.deleteEventTimeTimer(w, t);
    }
    a.svc.advanceWatermark(200);
    time.advance(100);
    const snap = a.svc.snapshot();
    expect(snap.states).toEqual([
      { name: '_timer/window-timers/event', kind: 'raw' },
      { name: '_timer/window-timers/processing', kind: 'raw' },
    ]);
    expect(snap.entries.length).toBe(a.svc.numEventTimeTimers() + a.svc.numProcessingTimeTimers());
    for (const [state, , ns, ts] of snap.entries) {
      expect(a.svc.ownsState(state)).toBe(true);
      expect(typeof ns).toBe('string');
      expect(typeof ts).toBe('number');
    }
    // Changes after the snapshot do not show in it.
    a.setKey('late');
    a.svc.registerEventTimeTimer({ start: 0, end: 10 }, 5_000);
    expect(snap.entries.some((e) => e[1] === 'late')).toBe(false);
    a.svc.deleteEventTimeTimer({ start: 0, end: 10 }, 5_000);

    const restoredTime = new ManualTime();
    restoredTime.time = time.time;
    const b = service(restoredTime);
    // Entries come back through a snapshot file in key-group order, not in the order taken.
    for (const e of [...snap.entries].reverse()) b.svc.restore(structuredClone(e));
    expect(b.svc.numEventTimeTimers()).toBe(a.svc.numEventTimeTimers());
    expect(b.svc.numProcessingTimeTimers()).toBe(a.svc.numProcessingTimeTimers());
    expect(b.svc.currentWatermark()).toBe(MIN_WATERMARK); // the watermark is not state: it comes again

    a.fired.length = 0;
    for (const x of [a, b]) x.svc.advanceWatermark(MAX_WATERMARK);
    time.advance(2_000);
    restoredTime.advance(2_000);
    expect(a.fired.length).toBeGreaterThan(100);
    expect([...b.fired].sort()).toEqual([...a.fired].sort());
    // Event-time timers still fire in timestamp order, with their key set.
    const times = b.fired.filter((f) => f.startsWith('event')).map((f) => Number(f.split(' ')[3]));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    for (const f of b.fired) expect(f.split(' ')[4]).toBe(`key=${f.split(' ')[1]}`);
  });

  it('re-schedules restored processing-time timers, at once when already due', () => {
    const time = new ManualTime();
    const a = service(time);
    a.setKey('p');
    a.svc.registerProcessingTimeTimer({ start: 0, end: 10 }, 50);
    a.svc.registerProcessingTimeTimer({ start: 0, end: 10 }, 500);
    const snap = a.svc.snapshot();
    const later = new ManualTime();
    later.time = 300;
    const b = service(later);
    for (const e of snap.entries) b.svc.restore(e);
    later.advance(300);
    expect(b.fired).toEqual(['processing "p" 0:10 50 key="p"']);
    later.advance(500);
    expect(b.fired.length).toBe(2);
  });

  it('refuses entries of other states and entries without a timestamp', () => {
    const { svc } = service(new ManualTime());
    expect(svc.ownsState('_timer/user-timers/event')).toBe(false);
    expect(() => svc.restore(['_timer/user-timers/event', 'k', '0:10', 5])).toThrow(
      /has no state '_timer\/user-timers\/event'/,
    );
    expect(() => svc.restore(['_timer/window-timers/event', 'k', '0:10', null])).toThrow(/has no timestamp/);
  });
});

describe('StatusWatermarkValve', () => {
  function valve(n: number) {
    const out: number[] = [];
    const idle: boolean[] = [];
    const v = new StatusWatermarkValve(
      n,
      (w) => out.push(w),
      (i) => idle.push(i),
    );
    return { v, out, idle };
  }

  it('emits the minimum over channels, only forward', () => {
    const { v, out } = valve(3);
    v.inputWatermark(0, 10);
    v.inputWatermark(1, 5);
    expect(out).toEqual([]);
    v.inputWatermark(2, 7);
    expect(out).toEqual([5]);
    v.inputWatermark(1, 20);
    expect(out).toEqual([5, 7]);
    v.inputWatermark(2, 30);
    expect(out).toEqual([5, 7, 10]);
    v.inputWatermark(0, 3); // older: ignored
    expect(out).toEqual([5, 7, 10]);
  });

  it('leaves idle channels out and re-admits them once they catch up', () => {
    const { v, out, idle } = valve(2);
    v.inputWatermark(0, 100);
    expect(out).toEqual([]);
    v.inputIdle(1, true);
    expect(out).toEqual([100]);
    v.inputWatermark(0, 150);
    expect(out).toEqual([100, 150]);
    // Back from idle with an old watermark: it must not drag the output back or hold it.
    v.inputWatermark(1, 120);
    v.inputWatermark(0, 200);
    expect(out).toEqual([100, 150, 200]);
    v.inputWatermark(1, 180);
    v.inputWatermark(0, 400);
    expect(out).toEqual([100, 150, 200, 400]);
    // Once it has caught up it counts again and holds the output back.
    v.inputWatermark(1, 450);
    v.inputWatermark(0, 600);
    expect(out).toEqual([100, 150, 200, 400, 450]);
    v.inputIdle(0, true);
    v.inputIdle(1, true);
    expect(idle).toEqual([true]);
    v.inputWatermark(0, 500);
    expect(idle).toEqual([true, false]);
    expect(v.currentWatermark).toBeGreaterThan(MIN_WATERMARK);
  });
});
