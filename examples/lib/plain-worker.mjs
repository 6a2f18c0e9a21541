// A plain worker_threads worker (not started by gort) that joins the runtime through
// workerData: it adds its partial sums into a gort channel and marks a WaitGroup done.
import { workerData } from 'node:worker_threads';
import { attach } from 'gort';

const sums = attach(workerData.sums);
const wg = attach(workerData.wg);
const { from, to } = workerData;
let s = 0;
for (let i = from; i < to; i++) s += i;
await sums.send(s);
wg.done();
