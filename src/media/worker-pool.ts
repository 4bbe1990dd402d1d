// The native worker pool (native/core/work/worker_pool.h via native/binding/worker_wrap.cc): the threads
// that run work which must leave the JS thread: AudioSender in worker mode on one pool, the video codecs on a
// second pool at a lower priority. There is no object to create: owners of worker jobs start the pool on
// first use. See docs/native-workers.md.
import { native } from '../native/binding.js';
import type { NativeWorkerPoolInfo } from '../native/types.js';

/** State of this thread's native worker pool. */
export type WorkerPoolInfo = NativeWorkerPoolInfo;

/**
 * Reports the native worker pool: whether it started, its thread count (SMALL_WEBRTC_WORKER_THREADS, else
 * the number of cores minus one, at least 1), the video pool's (as many threads, `videoNice` lower in
 * priority), and how many owners' receivers and mailboxes are alive (both return to 0 once every owner is
 * closed or garbage-collected: the facility's leak check).
 */
export function workerPoolInfo(): WorkerPoolInfo {
  return native().workerPoolInfo();
}
