// Port of go/src/runtime/chan_test.go (the behavioural tests; the benchmarks are not ported).
//
// Go's t.Fatalf/t.Errorf on the test goroutine become expect() on the main goroutine (the
// run() callback, on the main thread); inside goroutines a failed check throws, which is a
// panic that rejects run(), or is returned to main through a channel or spawn().
// Sizes are noted where they differ from Go's; GORT_CHANTEST_SCALE multiplies them.
//
// Not ported (N/A in gort):
// - TestShrinkStackDuringBlockedSend, TestNoShrinkStackWhileParking: goroutine stacks are V8
//   async frames, there is no stack shrinking or copying GC that could race a parked sender.
// - TestSelectStackAdjust: its point is stack shrinking too; the channel part (two selects
//   with duplicate cases woken by a close) is kept below.
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, select, recv, send, sleep, gosched, WaitGroup, type Chan } from 'gort';

const SCALE = Number(process.env['GORT_CHANTEST_SCALE'] ?? 1);
const scaled = (n: number): number => Math.max(1, Math.round(n * SCALE));

describe('go/src/runtime/chan_test.go', () => {
  it('TestChan', async () => {
    const N = scaled(50); // Go: 200, 20 with -short
    await run(
      async () => {
        for (let chanCap = 0; chanCap < N; chanCap++) {
          {
            // Ensure that receive from empty chan blocks.
            const c = chan<number>(chanCap);
            let recv1 = false;
            const p1 = spawn(async (c: Chan<number>) => {
              await c.recv();
            }, c).then(() => {
              recv1 = true;
            });
            let recv2 = false;
            const p2 = spawn(async (c: Chan<number>) => {
              await c.recvOk();
            }, c).then(() => {
              recv2 = true;
            });
            await sleep(1);
            expect(recv1 || recv2, `chan[${chanCap}]: receive from empty chan`).toBe(false);
            // Ensure that non-blocking receive does not block.
            expect(await select([recv(c, () => 'received')], { default: () => 'default' }), `chan[${chanCap}]: receive from empty chan`).toBe('default');
            expect(await select([recv(c, (_v, ok) => `received ${ok}`)], { default: () => 'default' })).toBe('default');
            await c.send(0);
            await c.send(0);
            await p1;
            await p2;
          }

          {
            // Ensure that send to full chan blocks.
            const c = chan<number>(chanCap);
            for (let i = 0; i < chanCap; i++) await c.send(i);
            let sent = false;
            const p = spawn(async (c: Chan<number>) => {
              await c.send(0);
            }, c).then(() => {
              sent = true;
            });
            await sleep(1);
            expect(sent, `chan[${chanCap}]: send to full chan`).toBe(false);
            // Ensure that non-blocking send does not block.
            expect(await select([send(c, 0, () => 'sent')], { default: () => 'default' }), `chan[${chanCap}]: send to full chan`).toBe('default');
            await c.recv();
            await p;
          }

          {
            // Ensure that we receive 0 (undefined) from closed chan.
            const c = chan<number>(chanCap);
            for (let i = 0; i < chanCap; i++) await c.send(i);
            c.close();
            for (let i = 0; i < chanCap; i++) expect(await c.recv(), `chan[${chanCap}]`).toBe(i);
            expect(await c.recv()).toBe(undefined);
            expect(await c.recvOk()).toEqual([undefined, false]);
          }

          {
            // Ensure that close unblocks receive.
            const c = chan<number>(chanCap);
            const done = chan<boolean>();
            go(
              async (c: Chan<number>, done: Chan<boolean>) => {
                const [v, ok] = await c.recvOk();
                await done.send(v === undefined && ok === false);
              },
              c,
              done,
            );
            await sleep(1);
            c.close();
            expect(await done.recv(), `chan[${chanCap}]: received non zero from closed chan`).toBe(true);
          }

          {
            // Send 100 integers,
            // ensure that we receive them non-corrupted in FIFO order.
            const c = chan<number>(chanCap);
            go(async (c: Chan<number>) => {
              for (let i = 0; i < 100; i++) await c.send(i);
            }, c);
            const got: (number | undefined)[] = [];
            for (let i = 0; i < 100; i++) got.push(await c.recv());
            expect(got, `chan[${chanCap}]`).toEqual(Array.from({ length: 100 }, (_, i) => i));

            // Same, but using recv2.
            go(async (c: Chan<number>) => {
              for (let i = 0; i < 100; i++) await c.send(i);
            }, c);
            const got2: [number | undefined, boolean][] = [];
            for (let i = 0; i < 100; i++) got2.push(await c.recvOk());
            expect(got2, `chan[${chanCap}]`).toEqual(Array.from({ length: 100 }, (_, i) => [i, true]));

            // Send 1000 integers in 4 goroutines,
            // ensure that we receive what we send.
            const P = 4;
            const L = 1000;
            for (let p = 0; p < P; p++) {
              go(
                async (c: Chan<number>, L: number) => {
                  for (let i = 0; i < L; i++) await c.send(i);
                },
                c,
                L,
              );
            }
            const done = chan<Map<number, number>>();
            for (let p = 0; p < P; p++) {
              go(
                async (c: Chan<number>, done: Chan<Map<number, number>>, L: number) => {
                  const recv = new Map<number, number>();
                  for (let i = 0; i < L; i++) {
                    const v = (await c.recv())!;
                    recv.set(v, (recv.get(v) ?? 0) + 1);
                  }
                  await done.send(recv);
                },
                c,
                done,
                L,
              );
            }
            const recvd = new Map<number, number>();
            for (let p = 0; p < P; p++) {
              for (const [k, v] of (await done.recv())!) recvd.set(k, (recvd.get(k) ?? 0) + v);
            }
            expect(recvd.size, `chan[${chanCap}]: received values`).toBe(L);
            for (const v of recvd.values()) expect(v, `chan[${chanCap}]: received count`).toBe(P);
          }

          {
            // Test len/cap.
            const c = chan<number>(chanCap);
            expect([c.len, c.cap], `chan[${chanCap}]: bad len/cap`).toEqual([0, chanCap]);
            for (let i = 0; i < chanCap; i++) await c.send(i);
            expect([c.len, c.cap], `chan[${chanCap}]: bad len/cap`).toEqual([chanCap, chanCap]);
          }
        }
      },
      { procs: 4 },
    );
  });

  it('TestNonblockRecvRace', async () => {
    const n = scaled(10000);
    await run(
      async () => {
        const wg = new WaitGroup();
        for (let i = 0; i < n; i++) {
          const c = chan<number>(1);
          await c.send(1);
          wg.add(1);
          go(
            async (c: Chan<number>, wg: WaitGroup) => {
              await select([recv(c, () => {})], {
                default: () => {
                  throw new Error('chan is not ready');
                },
              });
              wg.done();
            },
            c,
            wg,
          );
          c.close();
          await c.recv();
        }
        await wg.wait();
      },
      { procs: 2 },
    );
  });

  // This test checks that select acts on the state of the channels at one moment in the
  // execution, not over a smeared time window. From the time the second goroutine is
  // created, at least one of c1 and c2 is always ready for receiving, so its non-blocking
  // select must always receive from one or the other, never take the default case.
  it('TestNonblockSelectRace', async () => {
    const n = scaled(10000); // Go: 100,000, 1,000 with -short
    const failures = await run(
      async () => {
        let failures = 0;
        const done = chan<boolean>(1);
        for (let i = 0; i < n; i++) {
          const c1 = chan<number>(1);
          const c2 = chan<number>(1);
          await c1.send(1);
          go(
            async (c1: Chan<number>, c2: Chan<number>, done: Chan<boolean>) => {
              const ok = await select([recv(c1, () => true), recv(c2, () => true)], { default: () => false });
              await done.send(ok);
            },
            c1,
            c2,
            done,
          );
          await c2.send(1);
          await select([recv(c1, () => {})], { default: () => {} });
          if (!(await done.recv())) failures++;
        }
        return failures;
      },
      { procs: 2 },
    );
    expect(failures, 'no chan is ready').toBe(0);
  });

  // Same as TestNonblockSelectRace, but close(c2) replaces c2 <- 1.
  it('TestNonblockSelectRace2', async () => {
    const n = scaled(10000);
    const failures = await run(
      async () => {
        let failures = 0;
        const done = chan<boolean>(1);
        for (let i = 0; i < n; i++) {
          const c1 = chan<number>(1);
          const c2 = chan<number>();
          await c1.send(1);
          go(
            async (c1: Chan<number>, c2: Chan<number>, done: Chan<boolean>) => {
              const ok = await select([recv(c1, () => true), recv(c2, () => true)], { default: () => false });
              await done.send(ok);
            },
            c1,
            c2,
            done,
          );
          c2.close();
          await select([recv(c1, () => {})], { default: () => {} });
          if (!(await done.recv())) failures++;
        }
        return failures;
      },
      { procs: 2 },
    );
    expect(failures, 'no chan is ready').toBe(0);
  });

  it('TestSelfSelect', async () => {
    // Ensure that send/recv on the same chan in select does not crash nor deadlock.
    const errs = await run(
      async () => {
        const errs: (string | null)[] = [];
        for (const chanCap of [0, 10]) {
          const c = chan<number>(chanCap);
          const ps: Promise<string | null>[] = [];
          for (let p = 0; p < 2; p++) {
            ps.push(
              spawn(
                async (c: Chan<number>, p: number, chanCap: number) => {
                  for (let i = 0; i < 1000; i++) {
                    let v: number | undefined;
                    let received = false;
                    const onRecv = (x: number | undefined): void => {
                      v = x;
                      received = true;
                    };
                    if (p === 0 || i % 2 === 0) await select([send(c, p, () => {}), recv(c, onRecv)]);
                    else await select([recv(c, onRecv), send(c, p, () => {})]);
                    if (received && chanCap === 0 && v === p) return `self receive (p=${p}, i=${i})`;
                  }
                  return null;
                },
                c,
                p,
                chanCap,
              ),
            );
          }
          errs.push(...(await Promise.all(ps)));
        }
        return errs;
      },
      { procs: 2 },
    );
    expect(errs).toEqual([null, null, null, null]);
  });

  it('TestSelectStress', async () => {
    const N = scaled(50000); // Go: 100,000, 10,000 with -short
    const r = await run(
      async () => {
        const c: Chan<number>[] = [chan<number>(), chan<number>(), chan<number>(2), chan<number>(3)];
        // There are 4 goroutines that send N values on each of the chans,
        // + 4 goroutines that receive N values on each of the chans,
        // + 1 goroutine that sends N values on each of the chans in a single select,
        // + 1 goroutine that receives N values on each of the chans in a single select.
        // All these sends, receives and selects interact chaotically at runtime,
        // but we are careful that this whole construct does not deadlock.
        const wg = new WaitGroup();
        wg.add(10);
        for (let k = 0; k < 4; k++) {
          go(
            async (c: Chan<number>, N: number, wg: WaitGroup) => {
              for (let i = 0; i < N; i++) await c.send(0);
              wg.done();
            },
            c[k]!,
            N,
            wg,
          );
          go(
            async (c: Chan<number>, N: number, wg: WaitGroup) => {
              for (let i = 0; i < N; i++) await c.recv();
              wg.done();
            },
            c[k]!,
            N,
            wg,
          );
        }
        const selSend = spawn(
          async (c: Chan<number>[], N: number, wg: WaitGroup) => {
            const n = [0, 0, 0, 0];
            const c1: (Chan<number> | null)[] = c.slice();
            const sent = (k: number) => () => {
              n[k]!++;
              if (n[k] === N) c1[k] = null;
            };
            for (let i = 0; i < 4 * N; i++) {
              await select([send(c1[3]!, 0, sent(3)), send(c1[2]!, 0, sent(2)), send(c1[0]!, 0, sent(0)), send(c1[1]!, 0, sent(1))]);
            }
            wg.done();
            return n;
          },
          c,
          N,
          wg,
        );
        const selRecv = spawn(
          async (c: Chan<number>[], N: number, wg: WaitGroup) => {
            const n = [0, 0, 0, 0];
            const c1: (Chan<number> | null)[] = c.slice();
            const got = (k: number) => () => {
              n[k]!++;
              if (n[k] === N) c1[k] = null;
            };
            for (let i = 0; i < 4 * N; i++) {
              await select([recv(c1[0]!, got(0)), recv(c1[1]!, got(1)), recv(c1[2]!, got(2)), recv(c1[3]!, got(3))]);
            }
            wg.done();
            return n;
          },
          c,
          N,
          wg,
        );
        await wg.wait();
        return { sent: await selSend, received: await selRecv, lens: c.map((x) => x.len) };
      },
      { procs: 4 },
    );
    expect(r.sent).toEqual([N, N, N, N]);
    expect(r.received).toEqual([N, N, N, N]);
    expect(r.lens).toEqual([0, 0, 0, 0]);
  });

  it('TestSelectFairness (tolerant: each ready case chosen 40-60% of 10,000 times)', async () => {
    const trials = 10000;
    const r = await run(
      async () => {
        const c1 = chan<number>(trials + 1);
        const c2 = chan<number>(trials + 1);
        for (let i = 0; i < trials + 1; i++) {
          await c1.send(1);
          await c2.send(2);
        }
        const c3 = chan<number>();
        const c4 = chan<number>();
        const out = chan<number>();
        const done = chan<number>();
        const wg = new WaitGroup();
        wg.add(1);
        go(
          async (c1: Chan<number>, c2: Chan<number>, c3: Chan<number>, c4: Chan<number>, out: Chan<number>, done: Chan<number>, wg: WaitGroup) => {
            try {
              for (;;) {
                const b = await select([recv(c3, (v) => v), recv(c4, (v) => v), recv(c1, (v) => v), recv(c2, (v) => v)]);
                const more = await select([send(out, b!, () => true), recv(done, () => false)]);
                if (!more) return;
              }
            } finally {
              wg.done();
            }
          },
          c1,
          c2,
          c3,
          c4,
          out,
          done,
          wg,
        );
        let cnt1 = 0;
        let cnt2 = 0;
        const other: (number | undefined)[] = [];
        for (let i = 0; i < trials; i++) {
          const b = await out.recv();
          if (b === 1) cnt1++;
          else if (b === 2) cnt2++;
          else other.push(b);
        }
        done.close();
        await wg.wait();
        return { cnt1, cnt2, other };
      },
      { procs: 2 },
    );
    expect(r.other, 'unexpected value on channel').toEqual([]);
    expect(r.cnt1 + r.cnt2).toBe(trials);
    // Go allows 10 sigma (4,500..5,500); here 40-60%.
    expect(r.cnt1).toBeGreaterThanOrEqual(trials * 0.4);
    expect(r.cnt1).toBeLessThanOrEqual(trials * 0.6);
  });

  it('TestChanSendInterface, and values are copied at send time', async () => {
    const r = await run(
      async () => {
        const m = { kind: 'mt', tags: ['a'] };
        const c = chan<unknown>(1);
        await c.send(m);
        const first = await select([send(c, m, () => 'sent')], { default: () => 'default' });
        const second = await select([send(c, m, () => 'sent m'), send(c, { kind: 'mt2' }, () => 'sent mt')], { default: () => 'default' });
        // the buffered value is a copy made at send time: later changes to m do not show
        m.tags.push('b');
        const got = (await c.recv()) as typeof m;
        // and it crosses threads with its structure (Map, Date, bigint, nested arrays)
        const v = { map: new Map([[1, 'one']]), date: new Date(5), big: 2n ** 70n, nested: [[1], [2, [3]]] };
        const reply = chan<unknown>();
        const echo = spawn(
          async (c: Chan<unknown>, reply: Chan<unknown>) => {
            await reply.send(await c.recv());
          },
          c,
          reply,
        );
        await c.send(v);
        const back = await reply.recv();
        await echo;
        return { first, second, got, same: got === m, back };
      },
      { procs: 2 },
    );
    expect(r.first).toBe('default');
    expect(r.second).toBe('default');
    expect(r.got).toEqual({ kind: 'mt', tags: ['a'] });
    expect(r.same).toBe(false);
    expect(r.back).toEqual({ map: new Map([[1, 'one']]), date: new Date(5), big: 2n ** 70n, nested: [[1], [2, [3]]] });
  });

  // Go: a goroutine does Gosched before each receive so that the select sending on c (with
  // two cases on the same channel) has blocked; whichever case the receiver then takes must
  // be pseudo-random. A goroutine's gosched() here does not wait for the main thread, so the
  // receiver sleeps 1 ms instead, which makes sure the select has parked every time.
  it('TestPseudoRandomSend', async () => {
    const n = 100;
    const r = await run(
      async () => {
        const out: { chanCap: number; n0: number; n1: number }[] = [];
        for (const chanCap of [0, n]) {
          const c = chan<number>(chanCap);
          const l = spawn(
            async (c: Chan<number>, n: number) => {
              const l: number[] = [];
              for (let i = 0; i < n; i++) {
                await sleep(1);
                l.push((await c.recv())!);
              }
              return l;
            },
            c,
            n,
          );
          for (let i = 0; i < n; i++) await select([send(c, 1, () => {}), send(c, 0, () => {})]);
          let n0 = 0;
          let n1 = 0;
          for (const i of await l) {
            n0 += (i + 1) % 2;
            n1 += i;
          }
          out.push({ chanCap, n0, n1 });
        }
        return out;
      },
      { procs: 2 },
    );
    for (const { chanCap, n0, n1 } of r) {
      expect(n0 > n / 10 && n1 > n / 10, `Want pseudorandom, got ${n0} zeros and ${n1} ones (chan cap ${chanCap})`).toBe(true);
    }
  });

  it('TestMultiConsumer', async () => {
    const nwork = 23;
    const niter = scaled(271828); // as in Go
    const pn = [2, 3, 7, 11, 13, 17, 19, 23, 27, 31];
    const r = await run(
      async () => {
        const q = chan<number>(nwork * 3);
        const r = chan<number>(nwork * 3);

        // workers
        const wg = new WaitGroup();
        for (let i = 0; i < nwork; i++) {
          wg.add(1);
          go(
            async (w: number, q: Chan<number>, r: Chan<number>, pn: number[], wg: WaitGroup) => {
              for await (const v of q) {
                // mess with the fifo-ish nature of range
                if (pn[w % pn.length] === v) await gosched();
                await r.send(v);
              }
              wg.done();
            },
            i,
            q,
            r,
            pn,
            wg,
          );
        }

        // feeder & closer
        const expected = spawn(
          async (q: Chan<number>, r: Chan<number>, pn: number[], niter: number, wg: WaitGroup) => {
            let expect = 0;
            for (let i = 0; i < niter; i++) {
              const v = pn[i % pn.length]!;
              expect += v;
              await q.send(v);
            }
            q.close(); // no more work
            await wg.wait(); // workers done
            r.close(); // ... so there can be no more results
            return expect;
          },
          q,
          r,
          pn,
          niter,
          wg,
        );

        // consume & check
        let n = 0;
        let s = 0;
        for await (const v of r) {
          n++;
          s += v;
        }
        return { n, s, expect: await expected };
      },
      { procs: 2 },
    );
    expect(r.n).toBe(niter);
    expect(r.s).toBe(r.expect);
  });

  it('TestSelectDuplicateChannel', async () => {
    // This test makes sure we can queue a G on the same channel multiple times.
    const r = await run(
      async () => {
        const c = chan<number>();
        const d = chan<number>();
        const e = chan<number>();

        // goroutine A
        go(
          async (c: Chan<number>, d: Chan<number>, e: Chan<number>) => {
            await select([recv(c, () => {}), recv(c, () => {}), recv(d, () => {})]);
            await e.send(9);
          },
          c,
          d,
          e,
        );
        await sleep(5); // make sure goroutine A gets queued first on c

        // goroutine B
        const b = spawn(async (c: Chan<number>) => c.recv(), c);
        await sleep(5); // make sure goroutine B gets queued on c before continuing

        await d.send(7); // wake up A, it dequeues itself from c. This operation used to corrupt c.recvq.
        const fromA = await e.recv(); // A tells us it's done
        await c.send(8); // wake up B. This used to fail because c.recvq was corrupted
        return { fromA, fromB: await b };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ fromA: 9, fromB: 8 });
  });

  it('TestSelectStackAdjust (channel part): selects with duplicate cases woken by close(d)', async () => {
    const r = await run(
      async () => {
        const c = chan<number>();
        const d = chan<number>();
        const f = async (c: Chan<number>, d: Chan<number>, dup: boolean): Promise<string> => {
          const c2 = dup ? c : null;
          const d2 = dup ? d : null;
          // Receive from d.
          return select([recv(c, () => 'c'), recv(c2, () => 'c2'), recv(d, (_v, ok) => `d ${ok}`), recv(d2, (_v, ok) => `d2 ${ok}`)]);
        };
        const r1 = spawn(f, c, d, false);
        const r2 = spawn(f, c, d, true);
        // Let the goroutines get into the select.
        await sleep(10);
        // Wake selects.
        d.close();
        return [await r1, await r2];
      },
      { procs: 2 },
    );
    expect(r[0]).toBe('d false');
    expect(['d false', 'd2 false']).toContain(r[1]);
  });
});
