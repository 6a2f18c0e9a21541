/** gort/context: Go's context package, across threads. */
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
  Canceled,
  DeadlineExceeded,
  CanceledError,
  DeadlineExceededError,
  type CancelFunc,
} from './context.js';
