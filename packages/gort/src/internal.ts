/**
 * gort/internal: not part of gort's public API. It may change in any release, is left out of
 * the API reference, and programs should not import it. It is what gort-nats (this
 * repository's cluster package) shares with gort's own codec, so that a value is judged by
 * the same rules whether it goes to another thread or to another machine: what structured
 * clone copies faithfully and the walk over a value's containers (value/cloneable.ts), and
 * the symbols by which a runtime object (GORT_HANDLE) and a module function (MODULE_REF: its
 * module URL and export name) are known.
 *
 * @module gort/internal
 */
export { GORT_HANDLE } from './value/codec.js';
export { MODULE_REF, type ModuleRef } from './shipping/registry.js';
export {
  plainProtos,
  typedArrayProto,
  uncloneableName,
  uncloneableError,
  classInstanceError,
  symbolError,
  mapChildren,
  reviveChildren,
} from './value/cloneable.js';
