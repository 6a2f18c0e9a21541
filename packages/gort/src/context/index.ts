/**
 * gort/context: Go's context package, across threads. Every name is also exported by `gort`.
 *
 * @module gort/context
 */
export {
  Context,
  background,
  todo,
  withCancel,
  withCancelCause,
  withDeadline,
  withDeadlineCause,
  withTimeout,
  withTimeoutCause,
  withValue,
  withoutCancel,
  afterFunc,
  Canceled,
  DeadlineExceeded,
  CanceledError,
  DeadlineExceededError,
  type CancelFunc,
} from './context.js';
