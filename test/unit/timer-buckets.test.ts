// The timer service keeps timers in buckets by timestamp: what callbacks do to timers while a
// bucket fires (delete ones not fired yet, set new ones at the same or an earlier time, set the one
// firing again) behaves as with one timer at a time.
import { describe, expect, it } from 'vitest';
import { InternalTimerService, MAX_WATERMARK, type InternalTimer } from '../../taskmanager/runtime/timer-service.js';
import { ManualTime } from '../helpers/manual-time.js';

function service(
  onFire: (t: InternalTimer<string>, svc: InternalTimerService<string>, setKey: (k: unknown) => void) => void,
) {
  let key: unknown;
  const fired: string[] = [];
  const setKey = (k: unknown) => (key = k);
  const svc: InternalTimerService<string> = new InternalTimerService<string>(
    { getCurrentKey: () => key, setCurrentKey: setKey },
    {
      onEventTime: (t) => {
        fired.push(`${String(t.key)}/${t.namespace}@${t.timestamp}`);
        onFire(t, svc, setKey);
      },
      onProcessingTime: (t) => fired.push(`p ${String(t.key)}/${t.namespace}@${t.timestamp}`),
    },
    new ManualTime(),
    (ns) => ns,
  );
  return { svc, fired, setKey };
}

describe('timer buckets', () => {
  it('fire one timestamp in registration order; callbacks delete, add and re-add timers as they would one at a time', () => {
    let firstOfA = true;
    const { svc, fired, setKey } = service((t, s, set) => {
      if (t.key === 'a' && firstOfA) {
        firstOfA = false;
        set('c');
        s.deleteEventTimeTimer('w', 10); // not fired yet: never fires
        set('d');
        s.registerEventTimeTimer('w', 10); // same bucket, later: fires in this advance
        set('e');
        s.registerEventTimeTimer('v', 10); // another namespace of the same timestamp
        set('f');
        s.registerEventTimeTimer('w', 5); // already passed: fires in this advance too
        set('a');
        s.registerEventTimeTimer('w', 10); // the timer firing now, set again: fires again
      }
    });
    for (const k of ['a', 'b', 'c']) {
      setKey(k);
      svc.registerEventTimeTimer('w', 10);
      svc.registerEventTimeTimer('w', 10); // once per key, namespace and timestamp
    }
    setKey('z');
    svc.registerEventTimeTimer('w', 20);
    expect(svc.numEventTimeTimers()).toBe(4);
    svc.advanceWatermark(10);
    expect(fired.slice(0, 2)).toEqual(['a/w@10', 'b/w@10']);
    expect([...fired].sort()).toEqual(['a/w@10', 'a/w@10', 'b/w@10', 'd/w@10', 'e/v@10', 'f/w@5'].sort());
    expect(svc.numEventTimeTimers()).toBe(1);
    expect(svc.timers().eventTime).toEqual([{ key: 'z', namespace: 'w', timestamp: 20 }]);
    svc.advanceWatermark(MAX_WATERMARK);
    expect(fired[fired.length - 1]).toBe('z/w@20');
    expect(svc.numEventTimeTimers()).toBe(0);
  });

  it('a timer deleted and set again at the same time is live once', () => {
    const { svc, fired, setKey } = service(() => {});
    setKey('k');
    svc.registerEventTimeTimer('w', 7);
    svc.deleteEventTimeTimer('w', 7);
    expect(svc.numEventTimeTimers()).toBe(0);
    svc.registerEventTimeTimer('w', 7);
    svc.registerEventTimeTimer('w', 7);
    expect(svc.numEventTimeTimers()).toBe(1);
    const snap = svc.snapshot();
    expect(snap.entries).toEqual([['_timer/user-timers/event', 'k', 'w', 7]]);
    svc.advanceWatermark(7);
    expect(fired).toEqual(['k/w@7']);
    // Fired: setting it again makes a new timer (nothing remembers the fired one as set).
    svc.registerEventTimeTimer('w', 7);
    expect(svc.numEventTimeTimers()).toBe(1);
    svc.advanceWatermark(8);
    expect(fired).toEqual(['k/w@7', 'k/w@7']);
  });
});
