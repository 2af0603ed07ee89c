// A harness test: the function alone, with the engine's operator, keyed state and timers, driven
// record by record. Milliseconds per test.
import { expect, test } from 'vitest';
import { KeyedOneInputHarness } from 'weir/testing';
import { ClicksPerUser, type Click } from '../src/job.js';

const click = (user: string, ts: number): Click => ({ user, page: '/', ts });

test('counts each user\'s clicks and keeps one state entry per user', async () => {
  const harness = new KeyedOneInputHarness(new ClicksPerUser(), (c: Click) => c.user);
  await harness.open();
  harness.processElement(click('ann', 1), 1);
  harness.processElement(click('bob', 2), 2);
  harness.processElement(click('ann', 3), 3);
  expect(harness.extractOutputValues()).toEqual(['ann clicked 1 times', 'bob clicked 1 times', 'ann clicked 2 times']);
  expect(harness.numKeyedStateEntries()).toBe(2);

  // The state survives a snapshot and a restore into a new harness, as across a failure.
  const snapshot = await harness.snapshot();
  await harness.close();
  const restored = new KeyedOneInputHarness(new ClicksPerUser(), (c: Click) => c.user);
  await restored.initializeState(snapshot);
  await restored.open();
  restored.processElement(click('ann', 4), 4);
  expect(restored.extractOutputValues()).toEqual(['ann clicked 3 times']);
  await restored.close();
});
