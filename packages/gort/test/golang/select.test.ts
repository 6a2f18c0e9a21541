// Port of go/test/chan/select.go
//
// A select with default and send cases: every case's value expression is evaluated on each
// pass (GetValue counts them), a case whose channel was set to nil (null) never fires, and
// the loop ends at default once both buffered channels are full.
import { describe, it, expect } from 'vitest';
import { run, spawn, chan, select, send, type Chan } from 'gort';

describe('go/test/chan/select.go', () => {
  it('Send fills each buffered channel once, then takes default; every case value is evaluated', async () => {
    const r = await run(
      async () => {
        let counter = 0;
        let shift = 0;
        const GetValue = (): number => {
          counter++;
          return 2 ** shift;
        };
        async function Send(a: Chan<number> | null, b: Chan<number> | null): Promise<number> {
          let i = 0;
          for (;;) {
            const more = await select(
              [
                send(a, GetValue(), () => {
                  i++;
                  a = null;
                  return true;
                }),
                send(b, GetValue(), () => {
                  i++;
                  b = null;
                  return true;
                }),
              ],
              { default: () => false },
            );
            if (!more) break;
            shift++;
          }
          return i;
        }
        const a = chan<number>(1);
        const b = chan<number>(1);
        const v1 = await Send(a, b);
        const av = (await a.recv())!;
        const bv = (await b.recv())!;
        const v2 = await Send(a, null);
        return { v1, or: av | bv, v2, counter };
      },
      { procs: 2 },
    );
    expect(r.v1).toBe(2);
    expect(r.or).toBe(3);
    expect(r.v2).toBe(1);
    expect(r.counter).toBe(10);
  });

  it('the same program inside a goroutine', async () => {
    const r = await run(
      () =>
        spawn(async () => {
          let counter = 0;
          let shift = 0;
          const GetValue = (): number => {
            counter++;
            return 2 ** shift;
          };
          const Send = async (a: Chan<number> | null, b: Chan<number> | null): Promise<number> => {
            let i = 0;
            for (;;) {
              const more = await select(
                [
                  send(a, GetValue(), () => {
                    i++;
                    a = null;
                    return true;
                  }),
                  send(b, GetValue(), () => {
                    i++;
                    b = null;
                    return true;
                  }),
                ],
                { default: () => false },
              );
              if (!more) break;
              shift++;
            }
            return i;
          };
          const a = chan<number>(1);
          const b = chan<number>(1);
          const v1 = await Send(a, b);
          const av = (await a.recv())!;
          const bv = (await b.recv())!;
          const v2 = await Send(a, null);
          return { v1, or: av | bv, v2, counter };
        }),
      { procs: 2 },
    );
    expect(r).toEqual({ v1: 2, or: 3, v2: 1, counter: 10 });
  });
});
