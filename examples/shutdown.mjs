// Graceful shutdown of a pipeline on SIGINT: a context is cancelled by the signal, every
// stage sees ctx.done() in its select, finishes what it holds, and the program exits.
// (Run it and press Ctrl-C; in CI the program sends itself SIGINT after a moment.)
import { run, go, chan, select, recv, send, background, withCancel, WaitGroup, tick } from 'gort';

const summary = await run(async () => {
  const [ctx, cancel] = withCancel(background());
  process.once('SIGINT', () => {
    console.log('SIGINT: shutting down');
    cancel();
  });
  if (process.env.CI || process.argv.includes('--auto')) setTimeout(() => process.kill(process.pid, 'SIGINT'), 300);
  else console.log('a pipeline is running: press Ctrl-C to shut it down (or run with --auto)');

  const events = chan(8);
  const wg = new WaitGroup();
  wg.add(1);
  // producer: one event per tick until cancelled
  go(async (ctx, events, wg) => {
    const t = tick(10);
    let n = 0;
    for (;;) {
      const more = await select([recv(ctx.done(), () => false), recv(t.c, () => true)]);
      if (!more) break;
      const ok = await select([recv(ctx.done(), () => false), send(events, ++n, () => true)]);
      if (!ok) break;
    }
    t.stop();
    events.close();
    wg.done();
  }, ctx, events, wg);
  // consumer (main): drains what was produced, until the producer closes the channel
  let handled = 0;
  for await (const e of events) handled = e;
  await wg.wait();
  return { handled, err: ctx.err()?.message };
});
console.log(`pipeline stopped cleanly after ${summary.handled} events (${summary.err})`);
