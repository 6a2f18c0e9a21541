/** gort/context: Go's context package, across threads. */
export {
  Context,
  background,
  todo,
  withCancel,
  withDeadline,
  withTimeout,
  withValue,
  Canceled,
  DeadlineExceeded,
  CanceledError,
  DeadlineExceededError,
  type CancelFunc,
} from './context.js';
