// Flink-shaped asynchronous operations: IN_PROGRESS until the work settles, then the result or a
// failure-cause; trigger ids are scoped to their job.
import { describe, expect, it } from 'vitest';
import { AsyncOperations } from '../../jobmanager/rest/async-operations.js';

describe('AsyncOperations', () => {
  it('answers IN_PROGRESS, then COMPLETED with the operation or its failure cause', async () => {
    const ops = new AsyncOperations();
    let finish!: (v: string) => void;
    const id = ops.start('job-a', new Promise<string>((r) => (finish = r)), (location) => ({ location }));
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(ops.get('job-a', id)).toEqual({ status: { id: 'IN_PROGRESS' } });
    expect(ops.get('job-b', id)).toBeUndefined();
    finish('/sp/savepoint-1');
    await Promise.resolve();
    expect(ops.get('job-a', id)).toEqual({ status: { id: 'COMPLETED' }, operation: { location: '/sp/savepoint-1' } });
    const failed = ops.start('job-a', Promise.reject(new Error('not all tasks are running')), () => ({}));
    await new Promise((r) => setImmediate(r));
    expect(ops.get('job-a', failed)).toEqual({
      status: { id: 'COMPLETED' },
      operation: {
        'failure-cause': {
          class: 'SavepointException',
          'stack-trace': 'SavepointException: not all tasks are running',
        },
      },
    });
  });

  it('forgets settled results after five minutes', async () => {
    let now = 0;
    const ops = new AsyncOperations(() => now);
    const id = ops.start('j', Promise.resolve(1), () => ({}));
    await Promise.resolve();
    now = 6 * 60_000;
    ops.start('j', new Promise(() => undefined), () => ({}));
    expect(ops.get('j', id)).toBeUndefined();
  });
});
