/**
 * gort/errgroup: golang.org/x/sync/errgroup, across threads. Every name is also exported by
 * `gort`.
 *
 * @module gort/errgroup
 */
export { Group, withContext } from './errgroup.js';
