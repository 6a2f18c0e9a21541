/**
 * External select cases (chan/external.ts): objects outside the runtime as cases of select()
 * beside channels and timers. The external object here is a queue kept by a real worker
 * thread (not one of the runtime's), which hands out one value at a time and gets it back
 * acknowledged (gone) or given back (at the head again), as a cluster channel does over the
 * network; its replies can be held back to order a race.
 *
 * Cases: an external receive wins against idle channels; a ready channel wins at the poll
 * and the external case never starts; a channel winning while the external case holds a
 * value: the select resolves before the give-back, which then comes, and the next receiver
 * gets that value first; an external send that loses puts nothing; default (the external
 * case says "not now"; an external value ready is taken); an external case that proceeds
 * later, with a timer case; a closed external queue gives ok = false to a receive and
 * ClosedChannelError to a send; a rejection fails the select; a race of many selects against
 * goroutines on both Ms sending on a channel: each value exactly once, the queue's in order;
 * what is not a channel nor Selectable is still a TypeError.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import {
  start,
  go,
  chan,
  select,
  recv,
  send,
  after,
  selectable,
  ClosedChannelError,
  type Runtime,
  type Chan,
  type Selectable,
  type ExternalCase,
  type ExternalCaseOp,
} from 'gort';

/** The queue's keeper: one value out at a time; ack removes it, nak puts it back at the head. */
const KEEPER = `
const { parentPort, workerData } = require('node:worker_threads');
const cap = workerData;
let q = [], held = null, waiting = [], closed = false, holding = false, parked = [];
const reply = (m) => (holding ? parked.push(m) : parentPort.postMessage(m));
function serve() {
  while (held === null && q.length > 0 && waiting.length > 0) {
    const id = waiting.shift();
    held = id;
    reply({ id, ok: true, v: q[0] });
  }
  if (closed && q.length === 0) for (const id of waiting.splice(0)) reply({ id, ok: false });
}
parentPort.on('message', (m) => {
  switch (m.op) {
    case 'take': waiting.push(m.id); serve();
      if (m.now && waiting.includes(m.id)) { waiting.splice(waiting.indexOf(m.id), 1); parentPort.postMessage({ id: m.id, none: true }); }
      break;
    case 'cancel': if (waiting.includes(m.id)) { waiting.splice(waiting.indexOf(m.id), 1); parentPort.postMessage({ id: m.id, none: true }); } break;
    case 'ack': if (held === m.id) { q.shift(); held = null; parentPort.postMessage({ id: 0, took: true }); serve(); } break;
    case 'nak': if (held === m.id) { held = null; parentPort.postMessage({ id: 0, back: true }); serve(); } break;
    case 'put':
      if (closed) parentPort.postMessage({ id: m.id, closed: true });
      else if (q.length >= cap) parentPort.postMessage({ id: m.id, full: true });
      else { q.push(m.v); parentPort.postMessage({ id: m.id, ok: true }); serve(); }
      break;
    case 'room': parentPort.postMessage({ id: m.id, room: q.length < cap, closed }); break;
    case 'close': closed = true; serve(); parentPort.postMessage({ id: m.id }); break;
    case 'hold': holding = m.on; if (!holding) for (const x of parked.splice(0)) parentPort.postMessage(x); parentPort.postMessage({ id: m.id }); break;
    case 'dump': parentPort.postMessage({ id: m.id, q, held, parked: parked.length }); break;
  }
});
`;

interface Reply {
  id: number;
  ok?: boolean;
  v?: number;
  none?: boolean;
  took?: boolean;
  back?: boolean;
  full?: boolean;
  closed?: boolean;
  room?: boolean;
  q?: number[];
  held?: number | null;
  parked?: number;
}

/** A queue kept by a worker thread, usable as a select case (Selectable). */
class WorkerQueue implements Selectable<number> {
  private readonly w: Worker;
  private next = 1;
  private readonly pending = new Map<number, (m: Reply) => void>();
  private roomWaiters: Array<() => void> = [];
  /** Values given back by a losing receive case. */
  gaveBack = 0;
  /** Receive cases started (the select started its external case). */
  started = 0;

  constructor(cap: number) {
    this.w = new Worker(KEEPER, { eval: true, workerData: cap });
    this.w.on('message', (m: Reply) => {
      if (m.id === 0) {
        if (m.took) for (const f of this.roomWaiters.splice(0)) f();
        return;
      }
      const f = this.pending.get(m.id);
      this.pending.delete(m.id);
      f?.(m);
    });
  }

  private post(m: Record<string, unknown>, on?: (r: Reply) => void): number {
    const id = this.next++;
    if (on) this.pending.set(id, on);
    this.w.postMessage({ ...m, id });
    return id;
  }
  private ask(m: Record<string, unknown>): Promise<Reply> {
    return new Promise((r) => this.post(m, r));
  }

  async put(v: number): Promise<void> {
    for (;;) {
      const r = await this.ask({ op: 'put', v });
      if (r.closed) throw new ClosedChannelError('gort: put on a closed queue');
      if (!r.full) return;
      await new Promise<void>((f) => this.roomWaiters.push(f));
    }
  }
  async take(): Promise<[number | undefined, boolean]> {
    const r = await this.ask({ op: 'take' });
    if (r.ok) this.w.postMessage({ op: 'ack', id: r.id });
    return [r.v, r.ok === true];
  }
  dump(): Promise<Reply> {
    return this.ask({ op: 'dump' });
  }
  hold(on: boolean): Promise<Reply> {
    return this.ask({ op: 'hold', on });
  }
  close(): Promise<Reply> {
    return this.ask({ op: 'close' });
  }
  stop(): Promise<number> {
    return this.w.terminate();
  }

  [selectable](dir: 'recv' | 'send', v?: number): ExternalCase<number> {
    if (dir === 'send' && typeof v !== 'number') throw new TypeError('gort: this queue carries numbers');
    return { start: (op) => (dir === 'recv' ? this.selectRecv(op) : this.selectSend(v!, op)) };
  }

  private selectRecv(op: ExternalCaseOp): Promise<readonly [number | undefined, boolean] | undefined> {
    this.started++;
    return new Promise((resolve) => {
      let id = 0;
      const onAbort = (): void => {
        // Lost while waiting: take the request back; a value already on its way goes back.
        this.pending.set(id, (m) => {
          if (m.ok) this.giveBack(id);
        });
        this.post({ op: 'cancel', id });
        resolve(undefined);
      };
      op.signal.addEventListener('abort', onAbort, { once: true });
      id = this.post({ op: 'take', now: op.poll }, (m) => {
        op.signal.removeEventListener('abort', onAbort);
        if (m.none) return resolve(undefined);
        if (!op.claim()) {
          if (m.ok) this.giveBack(id);
          return resolve(undefined);
        }
        if (m.ok) this.w.postMessage({ op: 'ack', id });
        resolve([m.v, m.ok === true]);
      });
    });
  }

  private giveBack(id: number): void {
    this.gaveBack++;
    this.w.postMessage({ op: 'nak', id });
  }

  private async selectSend(v: number, op: ExternalCaseOp): Promise<readonly [undefined, boolean] | undefined> {
    for (;;) {
      if (op.signal.aborted) return undefined;
      const r = await this.ask({ op: 'room' });
      if (r.room || r.closed) {
        if (!op.claim()) return undefined;
        if (r.closed) throw new ClosedChannelError('gort: send on a closed queue');
        await this.put(v);
        return [undefined, true];
      }
      if (op.poll) return undefined;
      await new Promise<void>((f) => {
        this.roomWaiters.push(f);
        op.signal.addEventListener('abort', () => f(), { once: true });
      });
    }
  }
}

/** An external case whose start() does what `how` says. */
function odd(how: (op: ExternalCaseOp) => Promise<readonly [unknown, boolean] | undefined>): Selectable<unknown> {
  return { [selectable]: () => ({ start: how }) };
}

/** Whether p settled, once the callbacks pending now ran. */
const settled = (p: Promise<unknown>): Promise<boolean> =>
  Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);

let rt: Runtime;
beforeAll(async () => {
  rt = await start({ procs: 2 });
});
afterAll(async () => {
  await rt?.shutdown();
});

describe('external select cases', () => {
  it('an external receive wins against idle channels; a ready channel wins at the poll, and the external case never starts', async () => {
    const wq = new WorkerQueue(4);
    const c = chan<number>(1);
    await wq.put(10);
    expect(await select([recv(wq, (v, ok) => ['wq', v, ok]), recv(c, (v) => ['c', v])])).toEqual(['wq', 10, true]);
    await c.send(1);
    await wq.put(11);
    const started = wq.started;
    expect(await select([recv(wq, (v) => ['wq', v]), recv(c, (v) => ['c', v])])).toEqual(['c', 1]);
    expect(wq.started).toBe(started);
    expect((await wq.dump()).q).toEqual([11]);
    await wq.stop();
  });

  it('a channel winning while the external case holds a value: the select resolves first, the value goes back, and the next receiver gets it first', async () => {
    const wq = new WorkerQueue(4);
    await wq.put(1);
    await wq.put(2);
    const c = chan<string>(1);
    await wq.hold(true); // the keeper takes 1 out for the case but holds back its reply
    const p = select([recv(wq, (v) => ['wq', v]), recv(c, (v) => ['c', v])]);
    await wq.dump(); // the take request has reached the keeper
    expect((await wq.dump()).held).not.toBe(null);
    await c.send('local');
    expect(await p).toEqual(['c', 'local']);
    // Resolved while the value was still out with the losing case:
    const mid = await wq.dump();
    expect([mid.held !== null, mid.parked]).toEqual([true, 1]);
    expect(wq.gaveBack).toBe(0);
    await wq.hold(false);
    expect(await wq.take()).toEqual([1, true]);
    expect(wq.gaveBack).toBe(1);
    expect(await wq.take()).toEqual([2, true]);
    await wq.stop();
  });

  it('an external send that loses puts nothing', async () => {
    const wq = new WorkerQueue(1);
    await wq.put(7); // full
    const c = chan<string>();
    const p = select([send(wq, 8, () => 'sent'), recv(c, (v) => v)]);
    expect(await settled(p)).toBe(false);
    go(async (c: Chan<string>) => {
      await c.send('from an M');
    }, c);
    expect(await p).toBe('from an M');
    expect(await wq.take()).toEqual([7, true]); // room now: a send that had not lost would put 8
    await new Promise((r) => setTimeout(r, 50));
    expect((await wq.dump()).q).toEqual([]);
    // The same case wins when there is room.
    expect(await select([send(wq, 9, () => 'sent'), recv(c, (v) => v)])).toBe('sent');
    expect((await wq.dump()).q).toEqual([9]);
    await wq.stop();
  });

  it('with a default: the external case is asked once, and default runs when it cannot proceed now', async () => {
    const wq = new WorkerQueue(1);
    const c = chan<number>(1);
    expect(await select([recv(wq, (v) => v), recv(c, (v) => v)], { default: () => 'none' })).toBe('none');
    await wq.put(3);
    expect(await select([recv(wq, (v) => v), recv(c, (v) => v)], { default: () => 'none' })).toBe(3);
    expect(await select([send(wq, 4, () => 'sent')], { default: () => 'full' })).toBe('sent');
    expect(await select([send(wq, 5, () => 'sent')], { default: () => 'full' })).toBe('full');
    await c.send(6);
    expect(await select([recv(wq, (v) => ['wq', v]), recv(c, (v) => ['c', v])], { default: () => 'none' })).toEqual(['c', 6]);
    expect((await wq.dump()).q).toEqual([4]);
    await wq.stop();
  });

  it('an external case that proceeds later wins over a timer that has not fired; a timer wins over one that never proceeds', async () => {
    const wq = new WorkerQueue(1);
    const p = select([recv(wq, (v) => v), recv(after(60_000), () => 'timeout')]);
    expect(await settled(p)).toBe(false);
    await wq.put(5);
    expect(await p).toBe(5);
    expect(await select([recv(wq, (v) => v), recv(after(20), () => 'timeout')])).toBe('timeout');
    await wq.put(6);
    expect(await wq.take()).toEqual([6, true]); // the losing case's request was taken back
    await wq.stop();
  });

  it('a closed external queue: a receive case gets ok = false, a send case throws ClosedChannelError', async () => {
    const wq = new WorkerQueue(2);
    await wq.put(1);
    await wq.close();
    expect(await select([recv(wq, (v, ok) => [v, ok])])).toEqual([1, true]);
    expect(await select([recv(wq, (v, ok) => [v, ok])])).toEqual([undefined, false]);
    await expect(select([send(wq, 2)])).rejects.toThrow(ClosedChannelError);
    await wq.stop();
  });

  it('an external case that rejects fails the select; a [selectable] that throws throws at the case', async () => {
    const boom = odd(() => Promise.reject(new RangeError('boom')));
    const c = chan<number>();
    await expect(select([recv(boom), recv(c)])).rejects.toThrow(RangeError);
    const throws = odd(() => {
      throw new RangeError('sync boom');
    });
    await expect(select([recv(throws)])).rejects.toThrow(/sync boom/);
    const wq = new WorkerQueue(1);
    expect(() => send(wq, 'text' as unknown as number)).toThrow(/carries numbers/);
    await wq.stop();
  });

  it('many selects racing goroutines on both Ms: every value exactly once, the external ones in order', async () => {
    const N = 300;
    const wq = new WorkerQueue(4);
    const c = chan<number>();
    for (let m = 0; m < 2; m++) {
      go(async (c: Chan<number>, m: number, n: number) => {
        for (let i = m; i < n; i += 2) await c.send(i);
      }, c, m, N);
    }
    const putting = (async () => {
      for (let i = N; i < 2 * N; i++) await wq.put(i);
    })();
    const got: number[] = [];
    const fromQueue: number[] = [];
    for (let k = 0; k < 2 * N; k++) {
      got.push(
        await select([
          recv(wq, (v) => {
            fromQueue.push(v!);
            return v!;
          }),
          recv(c, (v) => v!),
        ]),
      );
    }
    await putting;
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 2 * N }, (_, i) => i));
    expect(fromQueue).toEqual([...fromQueue].sort((a, b) => a - b));
    const end = await wq.dump();
    expect([end.q, end.held]).toEqual([[], null]);
    await wq.stop();
  });

  it('an object that is neither a channel nor Selectable is still a TypeError; so is a [selectable] returning no case', () => {
    expect(() => recv({ recv: () => 1 } as never)).toThrow(/^gort: recv\(\) needs a Chan .*got a plain object/);
    expect(() => send({} as never, 1)).toThrow(TypeError);
    const bad = { [selectable]: () => 5 } as unknown as Selectable<number>;
    expect(() => recv(bad)).toThrow(/must return an object with a start\(op\) method/);
  });
});
