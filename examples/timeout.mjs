// select with a timeout: Go's `select { case r := <-c: … case <-time.After(d): … }`.
import { run, go, chan, select, recv, after, sleep } from 'gort';

const lines = await run(async () => {
  const out = [];
  for (const delay of [10, 200]) {
    const c = chan(1);
    go(async (c, ms) => {
      await sleep(ms); // a slow operation
      await c.send(`answer after ${ms} ms`);
    }, c, delay);
    out.push(
      await select([
        recv(c, (v) => `got: ${v}`),
        recv(after(100), () => `timed out after 100 ms (the reply would take ${delay} ms)`),
      ]),
    );
  }
  return out;
});
for (const l of lines) console.log(l);
