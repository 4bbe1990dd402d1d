/**
 * Shared pieces of the video-transform interop tests: a tap that records the quadrant colours of the camera
 * pictures the pipeline carries, and the worst colour error of a picture against the expected quadrants.
 */
import { FrameDirection, FrameProcessor, UserImageRawFrame, type Frame } from '../../src/index.js';
import { colourDistance, quadrantCentres, type Rgb } from '../../testkit/y4m.js';

/** Records the camera pictures the pipeline carries (before the transform rewrites them in place). */
export class CameraTap extends FrameProcessor {
  readonly seen: Array<{ size: readonly [number, number]; source: string | undefined; colours: Rgb[] }> = [];
  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (frame instanceof UserImageRawFrame && this.seen.length < 1000) {
      const [w, h] = frame.size;
      const colours = quadrantCentres(w, h).map(([x, y]): Rgb => {
        const o = (y * w + x) * 3;
        return [frame.image[o]!, frame.image[o + 1]!, frame.image[o + 2]!];
      });
      this.seen.push({ size: frame.size, source: frame.transportSource, colours });
    }
    await this.pushFrame(frame, direction);
  }
}

/** The largest colour distance between `got` and `want`, quadrant by quadrant. */
export function worst(got: readonly Rgb[], want: readonly Rgb[]): number {
  return Math.max(...got.map((c, i) => colourDistance(c, want[i]!)));
}
