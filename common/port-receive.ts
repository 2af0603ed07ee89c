// Reading a MessagePort synchronously: a slot thread busy with its tasks gets its ports' messages
// only between time slices, so a waiting side asks for what already arrived instead of sleeping.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

/** At most this many messages per call: what arrives meanwhile can wait for the next one. */
const MAX_MESSAGES = 64;

/** Hands `deliver` the messages already queued on `port`, in order. */
export function receivePending<M>(port: MessagePort, deliver: (msg: M) => void): void {
  for (let i = 0; i < MAX_MESSAGES; i++) {
    const received = receiveMessageOnPort(port);
    if (received === undefined) return;
    deliver(received.message as M);
  }
}
