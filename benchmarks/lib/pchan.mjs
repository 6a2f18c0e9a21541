/**
 * An unbuffered promise channel on one thread (reference figure D, RESULTS.md): send resolves once a receiver
 * took the value. The baseline of chan/sieve and of icount's promise-relay.
 */
export class PChan {
  constructor() {
    this.receivers = [];
    this.senders = [];
  }
  send(v) {
    const r = this.receivers.shift();
    if (r) {
      r(v);
      return Promise.resolve();
    }
    return new Promise((res) => this.senders.push([v, res]));
  }
  recv() {
    const s = this.senders.shift();
    if (s) {
      s[1]();
      return Promise.resolve(s[0]);
    }
    return new Promise((res) => this.receivers.push(res));
  }
}
