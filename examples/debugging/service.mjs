// A lookup service with the classic goroutine leak, and its fix (docs/guide.md, "Debugging
// gort programs"). Each request starts a goroutine that fetches a record (here: waits 0-20 ms)
// and sends it on a channel; the handler gives up after 10 ms.
//
// lookupLeaky: the channel is unbuffered, so once the handler has given up nobody will ever
// receive, and the goroutine stays blocked on its send for good: one leaked goroutine per
// request that timed out.
//
// lookupFixed: the request carries a context that the handler cancels when it returns, and
// the goroutine selects on its send and on the context's done channel: it ends either way.
import { go, chan, select, recv, send, after, sleep, background, withCancel } from 'gort';

const TIMEOUT_MS = 10;

export async function lookupLeaky(id) {
  const out = chan();
  go(async function fetchRecord(out, id) {
    await sleep(Math.random() * 20); // the database
    await out.send({ id, name: `record ${id}` });
  }, out, id);
  return select([recv(out, (rec) => rec), recv(after(TIMEOUT_MS), () => null)]);
}

export async function lookupFixed(id) {
  const [ctx, cancel] = withCancel(background());
  try {
    const out = chan();
    go(async function fetchRecordCtx(ctx, out, id) {
      await sleep(Math.random() * 20);
      await select([send(out, { id, name: `record ${id}` }), recv(ctx.done())]);
    }, ctx, out, id);
    return await select([recv(out, (rec) => rec), recv(after(TIMEOUT_MS), () => null)]);
  } finally {
    cancel(); // the goroutine's select takes ctx.done() if nobody took its record
  }
}

/** The service's request handler: /lookup?id=N with either lookup. */
export function lookupRoute(lookup) {
  return async (req, res) => {
    const id = Number(new URL(req.url, 'http://x').searchParams.get('id'));
    const rec = await lookup(id);
    res.writeHead(rec === null ? 504 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(rec ?? { error: 'timed out' }));
  };
}
