/**
 * The module gort-nats serves in net/spawn (lib/netpeer.mjs's gort-serve role): callers
 * reach its functions with net.spawn(fromModule(url).echo, x).
 */

/** Its argument back: the remote call does no work of its own. */
export function echo(x) {
  return x;
}
