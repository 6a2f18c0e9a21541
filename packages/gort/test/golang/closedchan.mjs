// Go's test/closedchan.go as a module, so that it runs both on the main thread and inside
// a goroutine (closedchan.test.ts). main() returns the failures Go would print; [] passes.
//
// Go's three Chan implementations: XChan (direct channel operations), SChan (select with
// one case) and SSChan (select with an extra case on a channel that is never ready).
// Go's zero value for int is 0; a receive from a closed gort channel gives undefined.
import { chan, select, recv, send, ClosedChannelError } from 'gort';

// direct channel operations when possible
class XChan {
  constructor(c) {
    this.c = c;
  }
  Send(x) {
    return this.c.send(x);
  }
  Nbsend(x) {
    return select([send(this.c, x, () => true)], { default: () => false });
  }
  Recv() {
    return this.c.recv();
  }
  Nbrecv() {
    return select([recv(this.c, (x) => [x, true])], { default: () => [undefined, false] });
  }
  Recv2() {
    return this.c.recvOk();
  }
  Nbrecv2() {
    return select([recv(this.c, (x, ok) => [x, ok, true])], { default: () => [undefined, false, false] });
  }
  Close() {
    this.c.close();
  }
  Impl() {
    return '(<- operator)';
  }
}

// indirect operations via select
class SChan {
  constructor(c) {
    this.c = c;
  }
  Send(x) {
    return select([send(this.c, x, () => {})]);
  }
  Nbsend(x) {
    return select([send(this.c, x, () => true)], { default: () => false });
  }
  Recv() {
    return select([recv(this.c, (x) => x)]);
  }
  Nbrecv() {
    return select([recv(this.c, (x) => [x, true])], { default: () => [undefined, false] });
  }
  Recv2() {
    return select([recv(this.c, (x, ok) => [x, ok])]);
  }
  Nbrecv2() {
    return select([recv(this.c, (x, ok) => [x, ok, true])], { default: () => [undefined, false, false] });
  }
  Close() {
    this.c.close();
  }
  Impl() {
    return '(select)';
  }
}

// indirect operations via larger selects
class SSChan {
  constructor(c, dummy) {
    this.c = c;
    this.dummy = dummy;
  }
  Send(x) {
    return select([send(this.c, x, () => {}), recv(this.dummy, () => {})]);
  }
  Nbsend(x) {
    return select([recv(this.dummy, () => { throw new Error('nbsend'); }), send(this.c, x, () => true)], { default: () => false });
  }
  Recv() {
    return select([recv(this.dummy, () => { throw new Error('recv'); }), recv(this.c, (x) => x)]);
  }
  Nbrecv() {
    return select([recv(this.dummy, () => { throw new Error('nbrecv'); }), recv(this.c, (x) => [x, true])], { default: () => [undefined, false] });
  }
  Recv2() {
    return select([recv(this.dummy, () => { throw new Error('recv'); }), recv(this.c, (x, ok) => [x, ok])]);
  }
  Nbrecv2() {
    return select([recv(this.dummy, () => { throw new Error('nbrecv'); }), recv(this.c, (x, ok) => [x, ok, true])], { default: () => [undefined, false, false] });
  }
  Close() {
    this.c.close();
  }
  Impl() {
    return '(select)';
  }
}

export async function main() {
  const failed = [];
  const fail = (msg) => failed.push(msg);
  const dummy = chan();

  // Go's shouldPanic: f must panic, here with a ClosedChannelError (sync or async).
  async function shouldPanic(what, f) {
    try {
      await f();
    } catch (e) {
      if (!(e instanceof ClosedChannelError)) fail(`${what}: panicked with ${e}, not a ClosedChannelError`);
      return;
    }
    fail(`${what}: did not panic`);
  }

  async function test1(c) {
    for (let i = 0; i < 3; i++) {
      // recv a close signal (a zero value)
      const x = await c.Recv();
      if (x !== undefined) fail(`test1: recv on closed: ${x} ${c.Impl()}`);
      const [x2, ok2] = await c.Recv2();
      if (x2 !== undefined || ok2) fail(`test1: recv2 on closed: ${x2} ${ok2} ${c.Impl()}`);

      // should work with select: received a value without blocking, so selected == true.
      const [x3, selected3] = await c.Nbrecv();
      if (x3 !== undefined || !selected3) fail(`test1: recv on closed nb: ${x3} ${selected3} ${c.Impl()}`);
      const [x4, ok4, selected4] = await c.Nbrecv2();
      if (x4 !== undefined || ok4 || !selected4) fail(`test1: recv2 on closed nb: ${x4} ${ok4} ${selected4} ${c.Impl()}`);
    }

    // send should work with ,ok too: sent a value without blocking, so ok == true.
    await shouldPanic(`test1: Nbsend ${c.Impl()}`, () => c.Nbsend(1));

    // the value should have been discarded.
    const x = await c.Recv();
    if (x !== undefined) fail(`test1: recv on closed got non-zero after send on closed: ${x} ${c.Impl()}`);

    // similarly Send.
    await shouldPanic(`test1: Send ${c.Impl()}`, () => c.Send(2));
    const y = await c.Recv();
    if (y !== undefined) fail(`test1: recv on closed got non-zero after send on closed: ${y} ${c.Impl()}`);
  }

  async function testasync1(c) {
    // should be able to get the last value via Recv
    const x = await c.Recv();
    if (x !== 1) fail(`testasync1: Recv did not get 1: ${x} ${c.Impl()}`);
    await test1(c);
  }

  async function testasync2(c) {
    // should be able to get the last value via Recv2
    const [x, ok] = await c.Recv2();
    if (x !== 1 || !ok) fail(`testasync2: Recv2 did not get 1, true: ${x} ${ok} ${c.Impl()}`);
    await test1(c);
  }

  async function testasync3(c) {
    // should be able to get the last value via Nbrecv
    const [x, selected] = await c.Nbrecv();
    if (x !== 1 || !selected) fail(`testasync3: Nbrecv did not get 1, true: ${x} ${selected} ${c.Impl()}`);
    await test1(c);
  }

  async function testasync4(c) {
    // should be able to get the last value via Nbrecv2
    const [x, ok, selected] = await c.Nbrecv2();
    if (x !== 1 || !ok || !selected) fail(`testasync4: Nbrecv2 did not get 1, true, true: ${x} ${ok} ${selected} ${c.Impl()}`);
    await test1(c);
  }

  function closedsync() {
    const c = chan();
    c.close();
    return c;
  }

  async function closedasync() {
    const c = chan(2);
    await c.send(1);
    c.close();
    return c;
  }

  const mks = [(c) => new XChan(c), (c) => new SChan(c), (c) => new SSChan(c, dummy)];
  const testcloseds = [testasync1, testasync2, testasync3, testasync4];

  for (const mk of mks) await test1(mk(closedsync()));
  for (const testclosed of testcloseds) for (const mk of mks) await testclosed(mk(await closedasync()));

  // Go also checks that close(nil) panics: N/A, there is no nil Chan object in gort
  // (null.close() is a plain JS TypeError).

  const ch = chan();
  ch.close();
  await shouldPanic('close of closed channel', () => ch.close());
  return failed;
}
