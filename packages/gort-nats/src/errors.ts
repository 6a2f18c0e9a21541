/**
 * The errors gort-nats adds: what a remote goroutine threw, a module nobody serves, and a
 * value that arrived but cannot be decoded. Any thread.
 */

/** What a function run by `net.spawn()` threw on the serving process, as far as it can travel. */
export class RemoteError extends Error {
  /** Always `'RemoteError'`. */
  override name = 'RemoteError';
  /** The remote error's `name` (`'TypeError'`, `'Error'`, a class's name, …). */
  readonly remoteName: string;
  /** The remote error's stack as the serving process printed it (empty when it had none). */
  readonly remoteStack: string;
  /** The serving process: `host:pid`. */
  readonly origin: string;
  /** Made by `net.spawn()` from a serving process' error reply; its stack shows both sides. */
  constructor(remoteName: string, message: string, remoteStack: string, origin: string) {
    super(message);
    this.remoteName = remoteName;
    this.remoteStack = remoteStack;
    this.origin = origin;
    this.stack = `RemoteError: ${remoteName}: ${message}\n    on ${origin}:\n${remoteStack
      .split('\n')
      .filter((l) => /^\s+at /.test(l))
      .join('\n')}\n    then here:\n${(new Error().stack ?? '').split('\n').slice(2).join('\n')}`;
  }
}

/** `net.spawn()` of a module that no process in the cluster serves (NATS: no responders). */
export class NoServerError extends Error {
  /** Always `'NoServerError'`. */
  override name = 'NoServerError';
}

/**
 * A value that arrived over NATS cannot be decoded: bytes that are not a value gort-nats
 * encoded (published on a channel's subject by another program, or a reply from something
 * that is not a gort-nats serving process), or a module function in it whose URL this process
 * cannot take. Thrown where the value was awaited (`recv`, `net.spawn`); `cause` is the
 * decoder's own error. A channel drops such a value for every receiver and goes on with the
 * next (docs/cluster.md, "When things fail").
 */
export class DecodeError extends Error {
  /** Always `'DecodeError'`. */
  override name = 'DecodeError';
}
