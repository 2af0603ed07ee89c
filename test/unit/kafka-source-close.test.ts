// A Kafka source reader closes at once, whatever its fetch loop is doing: a canceled task waits for
// the reader's close, and the TaskManager terminates a slot's thread when a task takes longer than
// task.cancellation.timeout to stop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaSource, OffsetsInitializer } from '../../api/kafka-source.js';
import { SimpleStringSchema } from '../../api/serialization-schemas.js';
import { DEFAULT_BROKER_OPTIONS, startKafkaBroker, type KafkaBroker } from '../../cli/kafka-broker/server.js';
import { silentLogger } from '../../common/logging.js';
import { createKafkaSourceReader } from '../../taskmanager/connectors/kafka/kafka-source-reader.js';
import type { SplitOutput } from '../../taskmanager/runtime/split-watermarks.js';
import { createTopic, uniqueTopic } from '../helpers/kafka.js';
import { ManualTime } from '../helpers/manual-time.js';
import { fakeTaskServices } from '../helpers/task-services.js';

describe('KafkaSource reader close', () => {
  let dir: string;
  let broker: KafkaBroker | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weir-kafka-close-'));
  });

  afterAll(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends partition discovery that retries an unreachable broker instead of waiting out request.timeout.ms', async () => {
    broker = await startKafkaBroker({
      ...DEFAULT_BROKER_OPTIONS,
      port: 0,
      dir: join(dir, 'data'),
      log: silentLogger(),
    });
    const bootstrap = `127.0.0.1:${broker.port}`;
    const topic = uniqueTopic('close');
    await createTopic(bootstrap, topic, 1);
    const source = KafkaSource.builder<string>()
      .setBootstrapServers(bootstrap)
      .setTopics(topic)
      .setStartingOffsets(OffsetsInitializer.earliest())
      .setValueOnlyDeserializer(new SimpleStringSchema())
      .setProperty('partition.discovery.interval.ms', 100)
      .setProperty('request.timeout.ms', 20_000)
      .build();
    const reader = createKafkaSourceReader(
      source,
      fakeTaskServices({ processingTime: new ManualTime() }),
      'Source: close test',
    );
    const splits: string[] = [];
    const out: SplitOutput = { collect: () => {}, addSplit: (s) => splits.push(s), removeSplit: () => {} };
    await reader.start!(out);
    expect(splits).toEqual([`${topic}-0`]);

    // The broker goes away: fetches fail and are retried, and the next discovery retries its
    // metadata request every 500 ms until request.timeout.ms (20 s) has passed.
    await broker.close();
    broker = undefined;
    await sleep(1_500);
    const t0 = performance.now();
    await reader.close!();
    expect(performance.now() - t0).toBeLessThan(2_000);
  }, 30_000);
});
