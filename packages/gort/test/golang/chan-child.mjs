// Child-process programs for ../chan.test.ts: the things a test can only see from outside a
// process (does it exit on its own, is it reported as deadlocked). Each mode prints one JSON
// line on stdout. Run as: node chan-child.mjs <mode>
import { run, go, chan, select, recv, send, sleep, timer, tick, after } from 'gort';

const mode = process.argv[2];
const print = (v) => process.stdout.write(`${JSON.stringify(v)}\n`);

async function report(main) {
  try {
    print({ ok: true, result: await run(main, { procs: 2 }) });
  } catch (e) {
    print({ ok: false, name: e?.name, message: e?.message, dump: e?.dump });
  }
}

switch (mode) {
  // A long timer and a ticker, both stopped: nothing may keep the process alive after main.
  case 'stopped-timer':
    await report(async () => {
      const t = timer(10 * 60_000);
      const stopped = t.stop();
      const tk = tick(60_000);
      tk.stop();
      return { stopped };
    });
    break;

  // Every goroutine, main included, blocks on a channel: Go's fatal deadlock error.
  case 'deadlock':
    await report(async () => {
      const c = chan();
      go(async function receiver(c) {
        await c.recv();
      }, c);
      go(async function selector(c) {
        await select([recv(c, () => 1), recv(null, () => 2)]);
      }, c);
      go(async function sender(d) {
        await d.send(1);
      }, chan());
      await c.recv();
    });
    break;

  // Goroutines that sleep, then make progress: not a deadlock.
  case 'sleeping':
    await report(async () => {
      const c = chan();
      go(async (c) => {
        await sleep(300);
        await c.send('late');
      }, c);
      const v = await c.recv();
      const t = await select([recv(after(300), () => 'timer fired')]);
      return [v, t];
    });
    break;

  // The cases below are correct programs in which every goroutine waits on a runtime
  // primitive for a while, but an M's event loop holds what will wake them: not a deadlock.
  // A goroutine ends, leaving a timer behind that sends.
  case 'timer-sends':
    await report(async () => {
      const c = chan();
      go((c) => {
        setTimeout(() => c.send(1), 800);
      }, c);
      return c.recv();
    });
    break;

  // A goroutine registers a callback, then parks on the channel that callback sends on.
  case 'callback-before-park':
    await report(async () => {
      const c = chan();
      const out = chan();
      go(async (c, out) => {
        setTimeout(() => c.send(20), 800);
        await out.send((await c.recv()) + 1);
      }, c, out);
      return out.recv();
    });
    break;

  // A fire-and-forget fetch (argv[3]: a local server that answers late) whose callback sends.
  case 'fetch-sends':
    await report(async () => {
      const c = chan();
      go((c, url) => {
        void fetch(url)
          .then((r) => r.text())
          .then((t) => c.send(t));
      }, c, process.argv[3]);
      return c.recv();
    });
    break;

  // A goroutine parked on a channel while it races it against a fetch (argv[3]).
  case 'race-fetch':
    await report(async () => {
      const quit = chan();
      const out = chan();
      go(async (quit, out, url) => {
        const v = await Promise.race([quit.recv(), fetch(url).then((r) => r.text())]);
        await out.send(v);
      }, quit, out, process.argv[3]);
      return out.recv();
    });
    break;

  // A timer's callback wakes main, then main blocks for good: a deadlock once the M's event
  // loop is empty again (the M must look again after its timer fired).
  case 'deadlock-after-timer':
    await report(async () => {
      const c = chan();
      go((c) => {
        setTimeout(() => c.send(1), 300);
      }, c);
      await c.recv();
      await c.recv();
    });
    break;

  // A true deadlock while an M holds an unrelated unref'd timer (which cannot keep a program
  // alive, so cannot make progress either): still reported.
  case 'deadlock-unref-timer':
    await report(async () => {
      const c = chan();
      go(async function receiver(c) {
        setTimeout(() => {}, 600_000).unref();
        await c.recv();
      }, c);
      await c.recv();
    });
    break;

  // go() from main, then main blocks its thread in recvSync at once.
  case 'go-recvsync':
    await report(async () => {
      const c = chan();
      go(async (c) => {
        await c.send(42);
      }, c);
      return c.recvSync();
    });
    break;

  // go() from main, then main blocks its thread in sendSync at once.
  case 'go-sendsync':
    await report(async () => {
      const c = chan();
      const r = chan(1);
      go(async (c, r) => {
        await r.send(await c.recv());
      }, c, r);
      c.sendSync(7);
      return r.recv();
    });
    break;

  default:
    print({ ok: false, message: `unknown mode ${mode}` });
}
