/**
 * gort-comlink: lets Comlink calls carry gort runtime objects (channels, WaitGroups,
 * mutexes, contexts, …) between threads. The object travels as exportRef()'s plain
 * description and arrives attach()ed to the runtime's heap on the other side, so both sides
 * share the same channel. Comlink stays a control path: values on the channel itself move
 * through shared memory, not through Comlink messages.
 *
 *   import { registerGortTransferHandler } from 'gort-comlink';
 *   registerGortTransferHandler(); // on both sides
 */
import * as Comlink from 'comlink';
import { attach, exportRef, isRuntimeRef, type RuntimeRef } from 'gort';

const HANDLE = Symbol.for('gort.handle');

export const gortTransferHandler: Comlink.TransferHandler<object, RuntimeRef> = {
  canHandle: (v: unknown): v is object => typeof v === 'object' && v !== null && HANDLE in v,
  serialize: (v: object) => [exportRef(v as Parameters<typeof exportRef>[0]), []],
  deserialize: (ref: RuntimeRef) => {
    if (!isRuntimeRef(ref)) throw new TypeError('gort-comlink: not a gort runtime reference');
    return attach(ref) as object;
  },
};

/** Register the handler under the name 'gort' (idempotent). */
export function registerGortTransferHandler(): void {
  Comlink.transferHandlers.set('gort', gortTransferHandler as Comlink.TransferHandler<unknown, unknown>);
}
