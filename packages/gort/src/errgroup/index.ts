/** gort/errgroup: golang.org/x/sync/errgroup, across threads. */
export { Group, withContext } from './errgroup.js';
