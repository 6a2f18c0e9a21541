/**
 * Values that arrive over NATS but cannot be decoded, on a real nats-server (JetStream on, a
 * free loopback port, its own store) with one serving process (fixtures/serve.mjs).
 *
 * chan: bytes another program published on a channel's subject, and an encoding whose module
 * function has a URL fromModule() refuses, each between two good values: the recv that takes
 * one rejects with a DecodeError naming the channel (the decoder's error as its cause), the
 * next recv gets the next good value, and the bad ones are gone from the channel (it drains
 * to ok = false after a close). spawn: a reply that is not an encoding, and one that is an
 * encoding but not a reply (from a fake server on the module's subject), each reject the
 * call with a DecodeError at once; a serving process sent arguments it cannot decode replies
 * with the DecodeError (a caller's RemoteError, remoteName 'DecodeError'), and serves the
 * next call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { serialize } from 'node:v8';
import { fromModule } from 'gort';
import { MODULE_REF } from 'gort/internal';
import { headers } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { connect, DecodeError, type Cluster } from '../dist/index.js';
import { decode, encode, moduleRef } from '../dist/values.js';
import { spawnSubject } from '../dist/cluster.js';
// @ts-expect-error: a plain .mjs script without types
import { startNatsServer } from '../../../scripts/nats-server.mjs';

const tasks = fromModule<{ add(a: number, b: number): number }>(new URL('./fixtures/tasks.mjs', import.meta.url));
/** A module no process serves: a fake server answers its calls. */
const faked = fromModule<{ f(x: number): number }>(new URL('./fixtures/answered-by-a-fake.mjs', import.meta.url));
const garbage = new TextEncoder().encode('not a gort-nats value');

let srv: { url: string; stop(): Promise<void> };
let net: Cluster;
let server: ChildProcess | undefined;

beforeAll(async () => {
  srv = await startNatsServer();
  net = await connect({ servers: srv.url });
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
});

describe('a spawn reply that cannot be decoded', () => {
  it('rejects the call at once with a DecodeError, for bytes that are not an encoding and for an encoding that is not a reply', async () => {
    const fake = await connect({ servers: srv.url });
    try {
      const replies = [garbage, serialize(42)];
      fake.nc.subscribe(spawnSubject(moduleRef(faked.f)!.url), {
        queue: 'gort',
        callback: (_err, msg) => {
          msg.respond(replies.shift());
        },
      });
      await fake.nc.flush();

      const e1 = (await net.spawn(faked.f, 1).catch((e: unknown) => e)) as DecodeError;
      expect(e1).toBeInstanceOf(DecodeError);
      expect(e1.message).toMatch(/^gort: the reply to f of file:.*answered-by-a-fake\.mjs \(21 bytes\) could not be decoded: Unable to deserialize/);
      const e2 = (await net.spawn(faked.f, 2).catch((e: unknown) => e)) as DecodeError;
      expect(e2).toBeInstanceOf(DecodeError);
      expect(e2.message).toMatch(/^gort: the reply to f of .* is not a reply of a gort-nats serving process: 42$/);
    } finally {
      await fake.close();
    }
  });

  it('makes a serving process sent arguments it cannot decode reply with the error, and serve the next call', async () => {
    server = spawnProcess(process.execPath, [new URL('./fixtures/serve.mjs', import.meta.url).pathname, srv.url, '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('exit', (code) => reject(new Error(`serve.mjs exited (${code}) before it was ready`)));
      createInterface({ input: server!.stdout! }).on('line', (l) => /^ready \d+$/.test(l) && resolve());
    });
    const h = headers();
    h.set('gort-fn', 'add');
    const reply = await net.nc.request(spawnSubject(moduleRef(tasks.add)!.url), garbage, { headers: h, timeout: 10_000 });
    expect(decode(reply.data, 'the reply')).toEqual({
      ok: false,
      name: 'DecodeError',
      message: expect.stringMatching(/^gort: the arguments of add \(21 bytes\) could not be decoded: Unable to deserialize/),
      stack: expect.any(String),
    });
    expect(await net.spawn(tasks.add, 2, 3)).toBe(5);
  });
});
