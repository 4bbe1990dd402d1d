/**
 * The pipeline core logs through the library-wide logger (`src/logger.ts`: console filtered by
 * `SMALL_WEBRTC_LOG`, replaceable with `setLogger`). Modules call `logger().warn(...)` at log time, so a
 * logger installed after import still takes effect.
 */
export { getLogger as logger, type Logger } from '../logger.js';
