// A plain worker_threads Worker (not started by gort) for sync.stress.test.ts: it attach()es
// the runtime objects passed in workerData as exportRef()s and hammers them while goroutines
// on the Ms use the same objects. It has no P: async waits use Atomics.waitAsync, the *Sync
// methods Atomics.wait. It reports what it did, and any broken invariant, on parentPort.
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from 'gort';

const { refs, iters, id } = workerData;
const mu = attach(refs.mu);
const counter = attach(refs.counter); // plain counter: store(load() + 1) under mu
const rw = attach(refs.rw);
const activity = attach(refs.activity); // readers + 10000 * writers inside rw
const rwWrites = attach(refs.rwWrites); // plain counter under rw's write lock
const rwReads = attach(refs.rwReads);
const sem = attach(refs.sem);
const semHeld = attach(refs.semHeld);
const semOps = attach(refs.semOps);
const wg = attach(refs.wg);
const size = sem.size;

const bad = [];
let mine = { mutex: 0, reads: 0, writes: 0, sem: 0 };
try {
  for (let i = 0; i < iters; i++) {
    // Mutex: half blocking (lockSync), half async (lock), with a plain read-modify-write.
    if ((i + id) % 2 === 0) mu.lockSync();
    else await mu.lock();
    counter.store(counter.load() + 1);
    mu.unlock();
    mine.mutex++;

    // RWMutex: check the invariant on every access.
    if (i % 8 === 0) {
      if (i % 16 === 0) rw.lockSync();
      else await rw.lock();
      const n = activity.add(10000);
      if (n !== 10000) bad.push(`worker ${id}: writer saw activity ${n}`);
      rwWrites.store(rwWrites.load() + 1);
      activity.add(-10000);
      rw.unlock();
      mine.writes++;
    } else {
      if (i % 3 === 0) rw.rlockSync();
      else await rw.rlock();
      const n = activity.add(1);
      if (n < 1 || n >= 10000) bad.push(`worker ${id}: reader saw activity ${n}`);
      rwReads.add(1);
      activity.add(-1);
      rw.runlock();
      mine.reads++;
    }

    // Semaphore: weighted acquire, held weight never above the size.
    const w = 1 + (i % size);
    if (!sem.tryAcquire(w)) await sem.acquire(w);
    const h = semHeld.add(w);
    if (h > size) bad.push(`worker ${id}: semaphore held ${h} > ${size}`);
    semHeld.add(-w);
    sem.release(w);
    semOps.add(1);
    mine.sem++;
    if (i % 1024 === 0) await new Promise((r) => setImmediate(r));
  }
} catch (e) {
  bad.push(`worker ${id}: ${e && e.stack ? e.stack : String(e)}`);
}
parentPort.postMessage({ id, bad, mine });
wg.done();
