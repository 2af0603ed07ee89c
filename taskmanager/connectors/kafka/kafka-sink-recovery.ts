// What an EXACTLY_ONCE KafkaSink does before writing again after a restore (as Flink's
// KafkaWriter): commit the transactions the checkpoint recorded as prepared (their checkpoint
// completed; only the commit may have been lost), then abort transactions a failed run left open
// after the checkpoint, by initializing their transactional ids in turn until one was never used.
import type { Logger } from '../../../common/logging.js';
import { KafkaClient } from './kafka-client.js';
import { ErrorCode } from '../../../common/kafka/protocol/index.js';
import { endTransaction, initProducerId, type ProducerIdentity } from './kafka-producer.js';

export interface PreparedTransaction extends ProducerIdentity {
  transactionalId: string;
  checkpointId: number;
}

/** One subtask's entry in the sink's union state. */
export interface KafkaWriterState {
  subtaskIndex: number;
  parallelism: number;
  /** Transactions this subtask started: ids are <prefix>-<subtask>-<1..counter>. */
  counter: number;
  pending: PreparedTransaction[];
}

export function transactionalId(prefix: string, subtaskIndex: number, n: number): string {
  return `${prefix}-${subtaskIndex}-${n}`;
}

export function isWriterState(v: unknown): v is KafkaWriterState {
  const s = v as KafkaWriterState;
  return !!s && Number.isInteger(s.subtaskIndex) && Number.isInteger(s.counter) && Array.isArray(s.pending);
}

/** Commits a prepared transaction; one committed already (a lost notification) is fine too. */
export async function commitPrepared(client: KafkaClient, t: PreparedTransaction, log: Logger): Promise<void> {
  try {
    await endTransaction(client, t.transactionalId, t, true);
  } catch (e) {
    const code = (e as { code?: number }).code;
    // Fenced or an invalid state: a later run already finished this transaction; Kafka keeps no way to tell committed from aborted here.
    if (
      code === ErrorCode.PRODUCER_FENCED ||
      code === ErrorCode.INVALID_PRODUCER_EPOCH ||
      code === ErrorCode.INVALID_TXN_STATE ||
      code === ErrorCode.INVALID_PRODUCER_ID_MAPPING
    ) {
      log.warn(
        { transactionalId: t.transactionalId, checkpointId: t.checkpointId, err: (e as Error).message },
        'KafkaSink: a restored transaction could not be committed again; it was finished by an earlier recovery (or expired: check transaction.timeout.ms)',
      );
      return;
    }
    throw e;
  }
}

/** Aborts <prefix>-<subtask>-<from...> until an id that was never used; returns how many were probed. */
export async function abortLingering(
  client: KafkaClient,
  prefix: string,
  subtaskIndex: number,
  from: number,
  timeoutMs: number,
): Promise<number> {
  let n = from;
  for (;;) {
    const id: ProducerIdentity = await initProducerId(client, transactionalId(prefix, subtaskIndex, n), timeoutMs);
    if (id.epoch === 0) return n - from;
    n++;
  }
}

/**
 * Recovery of subtask `subtaskIndex` of `parallelism` from the union state of all former subtasks:
 * it takes over former subtasks j with j % parallelism == subtaskIndex. Returns its counter.
 */
export async function recoverKafkaWriter(
  client: KafkaClient,
  o: {
    prefix: string;
    subtaskIndex: number;
    parallelism: number;
    states: KafkaWriterState[];
    transactionTimeoutMs: number;
    log: Logger;
  },
): Promise<number> {
  const mine = o.states.filter((s) => s.subtaskIndex % o.parallelism === o.subtaskIndex);
  let committed = 0;
  for (const s of mine) {
    for (const t of s.pending) {
      await commitPrepared(client, t, o.log);
      committed++;
    }
  }
  let aborted = 0;
  for (const s of mine)
    aborted += await abortLingering(client, o.prefix, s.subtaskIndex, s.counter + 1, o.transactionTimeoutMs);
  const own = o.states.find((s) => s.subtaskIndex === o.subtaskIndex);
  if (!own) aborted += await abortLingering(client, o.prefix, o.subtaskIndex, 1, o.transactionTimeoutMs);
  if (committed > 0 || aborted > 0)
    o.log.info(
      { committed, probedAndAborted: aborted },
      'KafkaSink restored: committed the transactions the checkpoint prepared, aborted those left open after it',
    );
  return own?.counter ?? 0;
}
