// Synthetic RGB pictures for the video tests and benches, and the PSNR that compares what came out with what
// went in.
import type { VideoImage } from '../src/media/video-frame.js';

/** A smooth RGB test picture with a square (a fifth of each side) that moves right by 8 px per `frame`. */
export function testImage(width: number, height: number, frame: number): VideoImage {
  const data = new Uint8Array(width * height * 3);
  const sx = (frame * 8) % (width - width / 5);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const sq = x >= sx && x < sx + width / 5 && y >= height / 3 && y < height / 3 + height / 5;
      data[i] = sq ? 230 : (255 * x) / width;
      data[i + 1] = sq ? 40 : (255 * y) / height;
      data[i + 2] = sq ? 60 : 128 + 64 * Math.sin(x * 0.02);
    }
  }
  return { data, width, height, format: 'RGB' };
}

/** Peak signal-to-noise ratio of `b` against `a` (same length, 8-bit samples), dB; 99 when identical. */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  return se === 0 ? 99 : 10 * Math.log10((255 * 255 * a.length) / se);
}
