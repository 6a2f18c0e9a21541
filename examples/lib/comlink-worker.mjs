// A Comlink-exposed API in a plain worker: its methods take gort channels as arguments.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { registerGortTransferHandler } from 'gort-comlink';

registerGortTransferHandler();
Comlink.expose(
  {
    /** Send the first n Fibonacci numbers on ch, then close it. */
    async fibonacci(ch, n) {
      let [a, b] = [0, 1];
      for (let i = 0; i < n; i++) {
        await ch.send(a);
        [a, b] = [b, a + b];
      }
      ch.close();
      return n;
    },
  },
  nodeEndpoint(parentPort),
);
