// Comlink as a control path, gort channels as the data path: the call passes a channel,
// the values then flow through shared memory to a goroutine.
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { registerGortTransferHandler } from 'gort-comlink';
import { run, chan, spawn } from 'gort';

registerGortTransferHandler();
const worker = new Worker(new URL('./lib/comlink-worker.mjs', import.meta.url));
const api = Comlink.wrap(nodeEndpoint(worker));

const { sent, sum } = await run(async () => {
  const ch = chan(8);
  const summer = spawn(async (ch) => {
    let s = 0;
    for await (const v of ch) s += v;
    return s;
  }, ch);
  const sent = await api.fibonacci(ch, 30);
  return { sent, sum: await summer };
});
await worker.terminate();
console.log(`${sent} Fibonacci numbers sent through a gort channel from a Comlink worker; their sum is ${sum}`);
if (sum !== 1346268) process.exit(1);
