/**
 * What the calling and the serving side of `net.spawn` share: the subjects a module's calls
 * travel on, the JetStream stream and consumer that keep the calls, and the result's shape.
 *
 * Subjects, for the module hash `<h>` (the first 22 base64url characters of the sha256 of
 * the module URL, since a NATS subject cannot hold a URL's dots and slashes):
 * - `gort.call.<h>`: the calls, kept by the stream `GORT_CALLS` (WorkQueue retention: a call
 *   is removed when acknowledged; file storage) and read through the durable pull consumer
 *   `gort-<h>` that every process serving the module shares (explicit acks, `ack_wait` from
 *   `net.serve()`'s `ackWait`, no bound on deliveries or on calls out at once: each serving
 *   process bounds its own by pulling only while it has a free slot).
 * - `gort.spawn.<h>`: the probe, answered (empty) by one of the serving processes (queue
 *   group `gort`); NATS answers 503 "no responders" when none listens.
 * - `gort.left.<h>`: a serving process says it stopped serving the module, so that callers
 *   forget the probe's answer.
 *
 * Invariant: adding the stream or the consumer with the configuration here succeeds whether
 * or not another process added it first (nats-server 2.9+: an identical stream is accepted;
 * a consumer added again takes the new `ack_wait`, so the last process to serve sets it).
 *
 * Any thread with a NATS connection (gort-nats uses the main thread).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { inspect } from 'node:util';
import { nanos } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';

/** The stream that keeps every module's calls until a serving process acknowledges them. */
export const CALLS_STREAM = 'GORT_CALLS';

/** This process, as results and errors name it. */
export const ORIGIN = `${hostname()}:${process.pid}`;

/** A call's outcome as it travels back to the caller. */
export type Reply = { ok: true; value: unknown } | { ok: false; name: string; message: string; stack: string };

export function describe(v: unknown): string {
  return inspect(v, { depth: 1, breakLength: Infinity });
}

export function failure(e: unknown): Reply {
  if (e instanceof Error) return { ok: false, name: e.name, message: e.message, stack: e.stack ?? '' };
  return { ok: false, name: typeof e, message: `${describe(e)} was thrown`, stack: '' };
}

/** A module URL's name in subjects and consumer names. */
export function moduleHash(href: string): string {
  return createHash('sha256').update(href).digest('base64url').slice(0, 22);
}

export const callSubject = (hash: string): string => `gort.call.${hash}`;
export const probeSubject = (hash: string): string => `gort.spawn.${hash}`;
export const leftSubject = (hash: string): string => `gort.left.${hash}`;
export const consumerName = (hash: string): string => `gort-${hash}`;

/** Add the calls stream and module `hash`'s consumer (or find them added already). */
export async function addCallsConsumer(jsm: JetStreamManager, hash: string, ackWait: number): Promise<void> {
  try {
    await jsm.streams.add({ name: CALLS_STREAM, subjects: ['gort.call.>'], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  } catch (e) {
    // 10058: a stream of that name with another configuration (made by another version): use it as it is.
    if (!(e instanceof JetStreamApiError && e.code === 10058)) throw e;
  }
  await jsm.consumers.add(CALLS_STREAM, {
    durable_name: consumerName(hash),
    filter_subject: callSubject(hash),
    deliver_policy: DeliverPolicy.All,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWait),
    max_ack_pending: -1,
    max_deliver: -1,
  });
}
