// Fetch many URLs with a bounded pool, cancelling everything on the first error
// (Go's errgroup.WithContext + SetLimit pattern), against a local HTTP server.
import http from 'node:http';
import { run, background, Group } from 'gort';

// A local server: /item/N answers after a short delay; /item/13 fails.
const server = http.createServer((req, res) => {
  const n = Number(req.url.split('/').pop());
  setTimeout(() => {
    if (n === 13) {
      res.writeHead(500).end('unlucky');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ n, square: n * n }));
  }, 20 + (n % 5) * 10);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

async function fetchAll(ids) {
  return run(async () => {
    const [g, ctx] = Group.withContext(background());
    g.setLimit(4); // at most 4 requests in flight, over every M
    const fetched = [];
    for (const id of ids) {
      await g.go(
        async (url, ctx) => {
          // ctx.signal aborts the request as soon as another one failed
          const res = await fetch(url, { signal: ctx.signal });
          if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
          return res.json();
        },
        `${base}/item/${id}`,
        ctx,
      );
      fetched.push(id);
    }
    try {
      await g.wait();
      return `all ${fetched.length} fetched`;
    } catch (e) {
      return `stopped: ${e.message}; context: ${ctx.err()?.message}`;
    }
  });
}

console.log(await fetchAll([1, 2, 3, 4, 5, 6, 7, 8]));
console.log(await fetchAll([1, 2, 3, 13, 5, 6, 7, 8, 9, 10, 11, 12]));
server.close();
