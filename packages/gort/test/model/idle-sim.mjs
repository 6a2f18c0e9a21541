// The simulated threads of the idle/park model (test/idle.model.test.ts), run by sim-worker.mjs.
//
// Each thread runs the REAL built transitions (dist/sched/idle.js) through the stepping seam,
// driven by a small copy of the policy that runtime/m.ts and runtime/loop-thread.ts wrap
// around them: the schedule loop's take / spin / park order, and the main pump. Work is one
// shared counter (WORK: Gs queued somewhere, visible to every M, as any run queue or the
// global queue is to workVisible()); completions are fake waiter records pushed on READY.
//
// Script ops (cmd.script, run in order by thread cmd.thread):
//   { op: 'work', n }          queue n Gs (WORK += n), then wakeP: a spawn, a LoopThread flush
//   { op: 'ready', t, w }      complete waiter w for thread t: pushReady
//   { op: 'm', p, start, onRun, spinLooks }
//                              P p's M (thread p + 1) from `start` ('running' | 'spinning' |
//                              'parked'); the k-th G it runs does onRun[k] (a 'work' or
//                              'ready' op). It loops until it sleeps on its doorbell for good.
//   { op: 'pump', expect }     this thread's READY pump (LoopThread.pump), until it settled
//                              `expect` waiters; it parks on its doorbell in between.
//
// cmd.mutation swaps in a deliberately broken protocol (the model's self-test), see makeIdle.
const { Idle } = await import(new URL('../../dist/sched/idle.js', import.meta.url).href);
const { T, T_WORDS } = await import(new URL('../../dist/sched/threads.js', import.meta.url).href);

/** Rounds of the schedule loop after which an M is reported as livelocked. */
const MAX_ROUNDS = 64;

/**
 * The protocol under test: the real one, or a mutant.
 * - 'ringBeforePush': pushReady loads PARKED before its push (the Dekker pair broken).
 * - 'flagHandover': the first wakep (before commit 062471f): it claimed the idle bit, then
 *   wrote the woken M's SPINNING flag; the M counted itself spinning only if it read that
 *   flag. An M waking for another reason could read it before the write: NMSPINNING leaked.
 * - 'noGiveBack': wakeP keeps its NMSPINNING count when it finds no idle bit to claim.
 * ('lookBeforePublish', a policy mutant, is in the M loop below.)
 */
function makeIdle(mutation, seam, mem, L) {
  const idle = new Idle(seam, mem, L);
  const tw = (t) => L.threads + t * T_WORDS;
  const claim = () => {
    for (let wd = 0; wd * 32 < L.procs; wd++) {
      let m = seam.load(mem, L.idleMask + wd);
      while (m !== 0) {
        const bit = m & -m;
        const old = seam.and(mem, L.idleMask + wd, ~bit);
        if ((old & bit) !== 0) {
          seam.sub(mem, L.npidle, 1);
          return wd * 32 + (31 - Math.clz32(bit)) + 1;
        }
        m = old & ~bit;
      }
    }
    return 0;
  };
  const enter = () =>
    seam.load(mem, L.nmspinning) === 0 && seam.load(mem, L.npidle) !== 0 && seam.compareExchange(mem, L.nmspinning, 0, 1) === 0;
  switch (mutation) {
    case null:
    case undefined:
    case 'lookBeforePublish':
      break;
    case 'ringBeforePush':
      idle.pushReady = (t, w) => {
        idle.ringIfParked(t);
        idle.pushReadyQuiet(t, w);
      };
      break;
    case 'flagHandover':
      idle.wakeP = () => {
        if (!enter()) return;
        const t = claim();
        if (t === 0) return void seam.sub(mem, L.nmspinning, 1);
        seam.store(mem, tw(t) + T.SPINNING, 1); // hand over the spinning count
        idle.ring(t);
      };
      idle.unpublishIdle = (p) => {
        seam.store(mem, tw(p + 1) + T.PARKED, 0);
        const bit = 1 << (p & 31);
        if ((seam.and(mem, L.idleMask + (p >> 5), ~bit) & bit) !== 0) seam.sub(mem, L.npidle, 1);
        return seam.load(mem, tw(p + 1) + T.SPINNING) === 1; // a waker handed us spinning
      };
      break;
    case 'noGiveBack':
      idle.wakeP = () => {
        if (!enter()) return;
        const t = claim();
        if (t !== 0) idle.ring(t);
      };
      break;
    default:
      throw new Error(`idle-sim: unknown mutation ${mutation}`);
  }
  return idle;
}

export function runIdle(cmd, ops, { seam, block, setSeq }) {
  const mem = new Int32Array(cmd.mem);
  const L = cmd.layout;
  const idle = makeIdle(cmd.mutation, seam, mem, L);
  const me = cmd.thread;
  const buf = [];
  let seq = 0;
  const step = () => setSeq(seq++);

  const doOp = (op) => {
    if (op.op === 'work') {
      seam.add(mem, L.work, op.n);
      idle.wakeP();
      ops.push({ kind: 'work', n: op.n });
    } else if (op.op === 'ready') {
      idle.pushReady(op.t, op.w);
      ops.push({ kind: 'push', t: op.t, w: op.w });
    } else throw new Error(`idle-sim: ${op.op} cannot run inside a G`);
  };

  /** The schedule loop of P p's M, as runtime/m.ts orders the transitions. Ends blocked. */
  const mLoop = (op) => {
    const p = op.p;
    const t = p + 1;
    if (t !== me) throw new Error(`idle-sim: thread ${me} cannot run P ${p}'s M`);
    const doorbell = L.threads + t * T_WORDS + T.DOORBELL;
    const onRun = op.onRun ?? [];
    const spinLooks = op.spinLooks ?? 2;
    let spinning = op.start === 'spinning';
    let ran = 0;
    /** workVisible(): any queued G, or a completion for us. */
    const look = () => seam.load(mem, L.work) > 0 || idle.hasReady(t);
    /** findRunnable's take: one G off the queues (WORK - 1 if > 0). */
    const take = () => {
      for (;;) {
        const n = seam.load(mem, L.work);
        if (n <= 0) return false;
        if (seam.compareExchange(mem, L.work, n, n - 1) === n) return true;
      }
    };
    /** M.park(): publish idle, look once more, wait on the doorbell unless found; unidle. */
    const park = (alreadyParked) => {
      let found = false;
      if (!alreadyParked) {
        if (spinning) {
          spinning = false;
          idle.transitionFromSpinning(t);
        }
        if (cmd.mutation === 'lookBeforePublish') {
          found = look();
          idle.publishIdle(p);
        } else {
          idle.publishIdle(p);
          found = look();
        }
        ops.push({ kind: 'park', found });
        if (!found) block(mem, doorbell, 0);
      } else block(mem, doorbell, 0);
      const claimed = idle.unpublishIdle(p);
      if (claimed) spinning = true;
      else if (found) {
        spinning = true; // Go's findRunnable: an M whose last look found work spins again
        idle.becomeSpinning(t);
      }
      ops.push({ kind: 'woke', found, claimed });
    };

    if (op.start === 'parked') park(true);
    for (let round = 0; ; round++) {
      step();
      if (round >= MAX_ROUNDS) throw new Error(`M${t} livelocked: ${MAX_ROUNDS} rounds of its schedule loop`);
      const n = idle.takeReady(t, buf);
      if (n > 0) ops.push({ kind: 'settle', t, ws: buf.slice() });
      if (take()) {
        if (spinning) {
          // M.stopSpinning: the last spinner to find work wakes another P if more is queued.
          spinning = false;
          const last = idle.transitionFromSpinning(t);
          const more = last && seam.load(mem, L.work) > 0;
          ops.push({ kind: 'unspin', last, more });
          if (more) idle.wakeP();
        }
        ops.push({ kind: 'run' });
        if (ran < onRun.length) doOp(onRun[ran]);
        ran++;
        continue;
      }
      if (n > 0) continue; // a turn that settled completions: look again
      if (spinning || idle.transitionToSpinning(t)) {
        if (!spinning) ops.push({ kind: 'spin' });
        spinning = true;
        let saw = false;
        for (let k = 0; k < spinLooks && !saw; k++) saw = look();
        if (saw) continue;
      }
      park(false);
    }
  };

  /** LoopThread.pump: settle READY, park on the doorbell while none came. */
  const pump = (op) => {
    const doorbell = L.threads + me * T_WORDS + T.DOORBELL;
    let got = 0;
    while (got < op.expect) {
      step();
      const n = idle.takeReady(me, buf);
      if (n > 0) {
        ops.push({ kind: 'settle', t: me, ws: buf.slice() });
        got += n;
        continue;
      }
      idle.prepareToPark(me);
      if (!idle.hasReady(me)) block(mem, doorbell, 0);
      idle.leavePark(me);
    }
  };

  for (const op of cmd.script) {
    step();
    if (op.op === 'm') mLoop(op);
    else if (op.op === 'pump') pump(op);
    else doOp(op);
  }
}
