/**
 * gort-nats: gort beyond one machine, over NATS. `connect()` joins a cluster of processes;
 * `net.serve(url)` makes this process run a module's functions for the others,
 * `net.spawn(fromModule(url).f, ...args)` runs one on some serving process, and
 * `net.chan(name, { cap })` is a channel every process can use (JetStream).
 *
 * @module gort-nats
 */
export { connect, Cluster, type ConnectOptions, type ServeOptions, type Service } from './cluster.js';
export { RemoteChan, type ChanOptions } from './chan.js';
export { RemoteError, NoServerError, DecodeError } from './errors.js';
