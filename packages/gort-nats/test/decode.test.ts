/**
 * Values that arrive over NATS but cannot be decoded, on a real nats-server (JetStream on, a
 * free loopback port, its own store) with one serving process (fixtures/serve.mjs).
 *
 * chan: bytes another program published on a channel's subject, and an encoding whose module
 * function has a URL fromModule() refuses, each between two good values: the recv that takes
 * one rejects with a DecodeError naming the channel (the decoder's error as its cause), the
 * next recv gets the next good value, and the bad ones are gone from the channel (it drains
 * to ok = false after a close); the same through a select's receive case. spawn: a result that is not an encoding, and one that is an
 * encoding but not a result (from a fake serving process that answers the module's probe and
 * takes its calls from the stream), each reject the call with a DecodeError at once; a
 * serving process handed a call whose arguments it cannot decode replies with the
 * DecodeError (a caller's RemoteError, remoteName 'DecodeError'), and serves the next call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { serialize } from 'node:v8';
import { fromModule, recv, select, start, type Runtime } from 'gort';
import { MODULE_REF } from 'gort/internal';
import { createInbox, headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, DecodeError, type Cluster } from '../dist/index.js';
import { decode, encode, moduleRef } from '../dist/values.js';
import { addCallsConsumer, callSubject, consumerName, CALLS_STREAM, moduleHash, probeSubject } from '../dist/calls.js';
// @ts-expect-error: a plain .mjs script without types
import { startNatsServer } from '../../../scripts/nats-server.mjs';

const tasks = fromModule<{ add(a: number, b: number): number }>(new URL('./fixtures/tasks.mjs', import.meta.url));
/** A module no process serves: a fake server answers its calls. */
const faked = fromModule<{ f(x: number): number }>(new URL('./fixtures/answered-by-a-fake.mjs', import.meta.url));
const garbage = new TextEncoder().encode('not a gort-nats value');

let srv: { url: string; stop(): Promise<void> };
let net: Cluster;
let server: ChildProcess | undefined;
let rt: Runtime;

beforeAll(async () => {
  srv = await startNatsServer();
  net = await connect({ servers: srv.url });
  rt = await start({ procs: 1 });
});

afterAll(async () => {
  // The serving process first, and a bounded wait for the close: a failed test must not leave
  // processes behind by hanging here.
  if (server !== undefined && server.exitCode === null && server.signalCode === null) {
    const gone = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
    server.kill('SIGKILL');
  }
  await Promise.race([net?.close(), new Promise((r) => setTimeout(r, 10_000))]);
  await rt?.shutdown();
  await srv?.stop();
});

describe('a channel value that cannot be decoded', () => {
  it('rejects the recv that takes it with a DecodeError, is dropped, and the channel goes on', async () => {
    const ch = await net.chan<number>('garbage', { cap: 5 });
    const js = jetstream(net.nc);
    // A module function as a process where this URL meant something would send it.
    const elsewhere = Object.defineProperty(() => 0, MODULE_REF, { value: { url: 'not a url', name: 'f' } });
    await ch.send(1);
    await js.publish('gort.chan.garbage', garbage);
    await js.publish('gort.chan.garbage', encode(elsewhere, 'v'));
    await ch.send(2);

    expect(await ch.recv()).toBe(1);
    const bytes = (await ch.recv().catch((e: unknown) => e)) as DecodeError;
    expect(bytes).toBeInstanceOf(DecodeError);
    expect(bytes.name).toBe('DecodeError');
    expect(bytes.message).toMatch(/^gort: a value received on 'garbage' \(21 bytes\) could not be decoded: Unable to deserialize/);
    expect(bytes.cause).toBeInstanceOf(Error);
    const fn = (await ch.recv().catch((e: unknown) => e)) as DecodeError;
    expect(fn).toBeInstanceOf(DecodeError);
    expect(fn.message).toMatch(/^gort: a value received on 'garbage' \(\d+ bytes\) could not be decoded: gort: fromModule\(\) needs a URL/);
    expect(fn.cause).toBeInstanceOf(TypeError);

    expect(await ch.recv()).toBe(2);
    await ch.close();
    expect(await ch.recvOk()).toEqual([undefined, false]); // nothing left: both were dropped, not handed out again
    await ch.destroy();
  });

  it("rejects a select whose receive case took it with a DecodeError, and the next select gets the next value", async () => {
    const ch = await net.chan<number>('garbage-select', { cap: 5 });
    await jetstream(net.nc).publish('gort.chan.garbage-select', garbage);
    await ch.send(3);
    const e = (await select([recv(ch, (v) => v)]).catch((x: unknown) => x)) as DecodeError;
    expect(e).toBeInstanceOf(DecodeError);
    expect(e.message).toMatch(/^gort: a value received on 'garbage-select' \(21 bytes\) could not be decoded/);
    expect(await select([recv(ch, (v, ok) => [v, ok])])).toEqual([3, true]);
    await ch.destroy();
  });
});

describe('a spawn result that cannot be decoded', () => {
  it('rejects the call at once with a DecodeError, for bytes that are not an encoding and for an encoding that is not a result', async () => {
    // A fake serving process: it answers the module's probe and takes the calls from the
    // stream as serving processes do, then replies to each with bytes of its own.
    const fake = await connect({ servers: srv.url });
    try {
      const hash = moduleHash(moduleRef(faked.f)!.url);
      await addCallsConsumer(await jetstreamManager(fake.nc), hash, 30_000);
      fake.nc.subscribe(probeSubject(hash), {
        callback: (_err, msg) => {
          msg.respond();
        },
      });
      const consumer = await jetstream(fake.nc).consumers.get(CALLS_STREAM, consumerName(hash));
      const answer = async (bytes: Uint8Array): Promise<void> => {
        const m = await consumer.next({ expires: 10_000 });
        fake.nc.publish(m!.headers!.get('gort-reply'), bytes);
        m!.ack();
      };

      const [e1] = await Promise.all([net.spawn(faked.f, 1).catch((e: unknown) => e) as Promise<DecodeError>, answer(garbage)]);
      expect(e1).toBeInstanceOf(DecodeError);
      expect(e1.message).toMatch(/^gort: the result of f of file:.*answered-by-a-fake\.mjs \(21 bytes\) could not be decoded: Unable to deserialize/);
      const [e2] = await Promise.all([net.spawn(faked.f, 2).catch((e: unknown) => e) as Promise<DecodeError>, answer(serialize(42))]);
      expect(e2).toBeInstanceOf(DecodeError);
      expect(e2.message).toMatch(/^gort: the result of f of .* is not a result of a gort-nats serving process: 42$/);
    } finally {
      await fake.close();
    }
  });

  it('makes a serving process handed arguments it cannot decode reply with the error, and serve the next call', async () => {
    server = spawnProcess(process.execPath, [new URL('./fixtures/serve.mjs', import.meta.url).pathname, srv.url, '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('exit', (code) => reject(new Error(`serve.mjs exited (${code}) before it was ready`)));
      createInterface({ input: server!.stdout! }).on('line', (l) => /^ready \d+$/.test(l) && resolve());
    });
    const inbox = createInbox();
    const sub = net.nc.subscribe(inbox);
    const h = headers();
    h.set('gort-fn', 'add');
    h.set('gort-reply', inbox);
    await jetstream(net.nc).publish(callSubject(moduleHash(moduleRef(tasks.add)!.url)), garbage, { headers: h });
    let reply: Uint8Array | undefined;
    for await (const m of sub) {
      if (m.headers?.get('gort-status') === 'running') continue; // the process says it runs the call (a slow machine): the result follows
      reply = m.data;
      sub.unsubscribe();
    }
    expect(decode(reply!, 'the reply')).toEqual({
      ok: false,
      name: 'DecodeError',
      message: expect.stringMatching(/^gort: the arguments of add \(21 bytes\) could not be decoded: Unable to deserialize/),
      stack: expect.any(String),
    });
    expect(await net.spawn(tasks.add, 2, 3)).toBe(5);
  });
});
