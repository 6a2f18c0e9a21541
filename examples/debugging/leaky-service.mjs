// The leak exercise, start to end (docs/guide.md, "Debugging gort programs"):
//   node examples/debugging/leaky-service.mjs
// Serves the leaky lookup service with gort's debug endpoint beside it, sends it 300 requests,
// and shows what a user would see: gort_goroutines growing on /metrics, the goroutine profile
// naming the function and line that leaks; then the same with the fixed lookup.
import http from 'node:http';
import { start } from 'gort';
import { debugHandler } from 'gort/debug';
import { lookupLeaky, lookupFixed, lookupRoute } from './service.mjs';

const rt = await start({ procs: 2, stacks: true });
const debug = debugHandler();

async function serve(lookup) {
  const route = lookupRoute(lookup);
  const server = http.createServer((req, res) => {
    if (debug(req, res)) return;
    if (req.url.startsWith('/lookup')) return void route(req, res);
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

const get = async (url) => (await fetch(url)).text();
const goroutines = async (base) => Number(/^gort_goroutines\{state="waiting"\} (\d+)/m.exec(await get(`${base}/metrics`))?.[1] ?? NaN);

for (const [name, lookup] of [['leaky', lookupLeaky], ['fixed', lookupFixed]]) {
  const { server, base } = await serve(lookup);
  const before = await goroutines(base);
  let timedOut = 0;
  for (let i = 0; i < 300; i += 30) {
    const codes = await Promise.all(Array.from({ length: 30 }, (_, k) => fetch(`${base}/lookup?id=${i + k}`).then((r) => r.status)));
    timedOut += codes.filter((c) => c === 504).length;
  }
  await new Promise((r) => setTimeout(r, 50)); // the slowest fetches end
  const after = await goroutines(base);
  console.log(`${name}: 300 requests, ${timedOut} timed out; waiting goroutines on /metrics: ${before} before, ${after} after (${after - before} left behind)`);
  if (name === 'leaky') {
    const profile = await get(`${base}/debug/pprof/goroutine?debug=1`);
    console.log(profile.split('\n').slice(0, 4).join('\n'));
  }
  server.close();
}
await rt.shutdown();
