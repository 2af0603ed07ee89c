// Nexmark: the generator's contract, and queries 5 and 7 on a JobManager and two TaskManagers at
// parallelism 2, compared with plain loops over the same events.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTimestamp, eventTypeOf, nexmarkConfig, nexmarkEvent, positionTime } from 'weir/nexmark';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { readCommittedLines } from '../helpers/output.js';
import { multisetDiff, NO_DIFF } from '../reference/compare.js';
import { bids, referenceQ5, referenceQ7 } from '../reference/nexmark.js';
import { lateRecordsPerSubtask } from '../reference/stream.js';
import { expectSpreadOverTaskManagers } from '../helpers/spread.js';

describe('the Nexmark generator', () => {
  const config = nexmarkConfig({ outOfOrdernessMs: 50, seed: 7 });

  it('is deterministic: the same index always gives the same event', () => {
    for (const i of [0, 1, 4, 49, 50, 12345, 999_999]) expect(nexmarkEvent(i, config)).toEqual(nexmarkEvent(i, config));
    // The seed matters.
    const other = nexmarkConfig({ outOfOrdernessMs: 50, seed: 8 });
    const differ = Array.from(
      { length: 100 },
      (_, i) => JSON.stringify(nexmarkEvent(i, config)) !== JSON.stringify(nexmarkEvent(i, other)),
    );
    expect(differ.filter(Boolean).length).toBeGreaterThan(90);
  });

  it('keeps the standard proportions: per 50 events 1 person, 3 auctions, 46 bids', () => {
    const counts = { person: 0, auction: 0, bid: 0 };
    for (let i = 0; i < 5000; i++) {
      const e = nexmarkEvent(i, config);
      expect(e.type).toBe(eventTypeOf(i));
      counts[e.type]++;
    }
    expect(counts).toEqual({ person: 100, auction: 300, bid: 4600 });
  });

  it('moves event time forward at the configured rate with disorder within the bound', () => {
    let maxTs = -Infinity;
    let disordered = 0;
    for (let i = 0; i < 20_000; i++) {
      const ts = eventTimestamp(nexmarkEvent(i, config));
      const pos = positionTime(i, config);
      expect(ts).toBeLessThanOrEqual(pos);
      expect(ts).toBeGreaterThanOrEqual(pos - 50);
      if (ts < maxTs) disordered++;
      maxTs = Math.max(maxTs, ts);
    }
    expect(positionTime(10_000, config) - positionTime(0, config)).toBe(1000);
    expect(disordered).toBeGreaterThan(1000);
    expect(lateRecordsPerSubtask((i) => eventTimestamp(nexmarkEvent(i, config)), 20_000, 2, 50)).toBe(0);
  });

  it('refers to existing people and in-flight auctions, with hot ones', () => {
    const people = new Set<number>();
    const auctions = new Set<number>();
    const bidsPerAuction = new Map<number, number>();
    let unknown = 0;
    let n = 0;
    let maxPerson = -1;
    let maxAuction = -1;
    for (let i = 0; i < 20_000; i++) {
      const e = nexmarkEvent(i, config);
      if (e.type === 'person') {
        people.add(e.person.id);
        maxPerson = Math.max(maxPerson, e.person.id);
      } else if (e.type === 'auction') {
        auctions.add(e.auction.id);
        maxAuction = Math.max(maxAuction, e.auction.id);
        expect(e.auction.reserve).toBeGreaterThan(e.auction.initialBid);
        expect(e.auction.expires).toBeGreaterThan(e.auction.dateTime);
      } else {
        n++;
        // Nexmark lets ids run a little (10) ahead of what exists.
        expect(e.bid.auction).toBeLessThanOrEqual(maxAuction + 10);
        expect(e.bid.bidder).toBeLessThanOrEqual(maxPerson + 10);
        if (!auctions.has(e.bid.auction) || !people.has(e.bid.bidder)) unknown++;
        bidsPerAuction.set(e.bid.auction, (bidsPerAuction.get(e.bid.auction) ?? 0) + 1);
      }
    }
    expect(unknown / n).toBeLessThan(0.1);
    const top = [...bidsPerAuction.values()].sort((a, b) => b - a);
    // Half of the bids go to the current hot auction.
    expect(top[0]! / n).toBeGreaterThan(0.01);
    expect(bidsPerAuction.size).toBeGreaterThan(300);
  });
});

describe('Nexmark queries on two TaskManagers', () => {
  let cluster: TestCluster;
  const out = mkdtempSync(join(tmpdir(), 'weir-nexmark-'));
  const COUNT = 200_000;
  const OUT_OF_ORDERNESS = 200;
  const input = bids(COUNT, nexmarkConfig({ outOfOrdernessMs: OUT_OF_ORDERNESS }));

  beforeAll(async () => {
    cluster = await startCluster({ taskManagers: 2, slots: 2 });
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  async function run(query: string, args: string[], name = query): Promise<{ lines: string[]; job: any }> {
    const dir = join(out, name);
    const jobId = await cluster.submitExample(`nexmark/${query}`, [dir, ...args], 2);
    const job = await cluster.waitForJob(jobId, ['FINISHED'], 120_000);
    expectSpreadOverTaskManagers(job, 2);
    return { lines: readCommittedLines(dir), job };
  }

  it('q5 (hot items): the auctions with the most bids per sliding window', async () => {
    const expected = referenceQ5(input, 2000, 500);
    expect(expected.length).toBeGreaterThan(40);
    const { lines, job } = await run('q5', [String(COUNT), '2000', '500', String(OUT_OF_ORDERNESS)]);
    for (const v of job.vertices) expect(v.parallelism).toBe(2);
    // The counts per auction are split around their exchange (local-window-aggregation.ts), and so
    // is the maximum per window after them.
    const names = job.vertices.map((v: any) => v.name).join('; ');
    expect(names).toContain('-> Local Bids per auction; Bids per auction -> Local Hot items; Hot items');
    expect(multisetDiff(lines, expected)).toEqual(NO_DIFF);
  });

  it('q7 (highest bid): the bids with the highest price per tumbling window', async () => {
    const expected = referenceQ7(input, 1000);
    expect(expected.length).toBeGreaterThan(15);
    const { lines, job } = await run('q7', [String(COUNT), '1000', String(OUT_OF_ORDERNESS)]);
    for (const v of job.vertices) expect(v.parallelism).toBe(2);
    expect(job.vertices.map((v: any) => v.name).join('; ')).toContain('Local Highest bid');
    expect(multisetDiff(lines, expected)).toEqual(NO_DIFF);
  });

  it('q7 with one windowAll: the same bids, gathered from both TaskManagers', async () => {
    const expected = referenceQ7(input, 1500);
    const { lines, job } = await run('q7', [String(COUNT), '1500', String(OUT_OF_ORDERNESS), '-', 'all'], 'q7-all');
    // Source and sink at parallelism 2, the windowAll alone at 1, fed partials by both sources.
    expect(job.vertices.map((v: any) => v.parallelism)).toEqual([2, 1, 2]);
    expect(job.vertices[0].name).toContain('-> Local Highest bid (all)');
    expect(multisetDiff(lines, expected)).toEqual(NO_DIFF);
  });
});
