// Y4M files for Chromium's fake camera (`--use-file-for-fake-video-capture=FILE.y4m`, looped) and known test
// pictures whose colours a test can check after the whole path (camera -> VP8 -> bot -> VP8 -> <video>).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** An RGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

/**
 * The four quadrant colours of {@link quadrantsRgb}: top-left, top-right, bottom-left, bottom-right. Away from
 * 0 and 255 so neither they nor their inverses clip in the limited-range YUV they travel as.
 */
export const QUADRANT_COLOURS: readonly Rgb[] = [
  [200, 40, 40],
  [40, 190, 60],
  [50, 60, 200],
  [210, 210, 60],
];

/** Packed R,G,B of a picture split into four flat quadrants of {@link QUADRANT_COLOURS}. */
export function quadrantsRgb(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = QUADRANT_COLOURS[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)]!;
      rgb.set(c, (y * width + x) * 3);
    }
  }
  return rgb;
}

/** Centres of the four quadrants, in the order of {@link QUADRANT_COLOURS}, for a `width` x `height` picture. */
export function quadrantCentres(width: number, height: number): Array<[number, number]> {
  const xs = [Math.floor(width / 4), Math.floor((3 * width) / 4)];
  const ys = [Math.floor(height / 4), Math.floor((3 * height) / 4)];
  return [
    [xs[0]!, ys[0]!],
    [xs[1]!, ys[0]!],
    [xs[0]!, ys[1]!],
    [xs[1]!, ys[1]!],
  ];
}

/** Largest per-channel difference between two colours. */
export function colourDistance(a: Rgb, b: Rgb): number {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}

/** The inverse (255 - v) of a colour. */
export function invertRgb(c: Rgb): Rgb {
  return [255 - c[0], 255 - c[1], 255 - c[2]];
}

/**
 * Packed RGB -> I420 (BT.601 limited range, 2x2 chroma averaging), the layout of a Y4M `C420jpeg` frame.
 * `width` and `height` must be even.
 */
export function rgbToI420(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const ySize = width * height;
  const cw = width / 2;
  const out = new Uint8Array(ySize + 2 * (ySize / 4));
  const clamp = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      out[y * width + x] = clamp(16 + 0.257 * rgb[p]! + 0.504 * rgb[p + 1]! + 0.098 * rgb[p + 2]!);
    }
  }
  for (let y = 0; y < height / 2; y++) {
    for (let x = 0; x < cw; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const) {
        const p = ((2 * y + dy) * width + 2 * x + dx) * 3;
        r += rgb[p]!;
        g += rgb[p + 1]!;
        b += rgb[p + 2]!;
      }
      r /= 4;
      g /= 4;
      b /= 4;
      out[ySize + y * cw + x] = clamp(128 - 0.148 * r - 0.291 * g + 0.439 * b);
      out[ySize + ySize / 4 + y * cw + x] = clamp(128 + 0.439 * r - 0.368 * g - 0.071 * b);
    }
  }
  return out;
}

/** A Y4M file written to a temporary directory; `cleanup()` deletes it. */
export interface Y4mFile {
  path: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  cleanup(): void;
}

/**
 * Writes a Y4M (4:2:0) of `frames` pictures at `fps`; `draw(n)` returns frame n as packed RGB of
 * `width` x `height` (even sides).
 */
export function writeY4m(o: {
  width: number;
  height: number;
  fps: number;
  frames: number;
  draw: (n: number) => Uint8Array;
}): Y4mFile {
  if (o.width % 2 !== 0 || o.height % 2 !== 0) throw new RangeError('Y4M sides must be even');
  const dir = mkdtempSync(join(tmpdir(), 'small-webrtc-y4m-'));
  const path = join(dir, 'camera.y4m');
  const parts: Uint8Array[] = [
    Buffer.from(`YUV4MPEG2 W${o.width} H${o.height} F${o.fps}:1 Ip A1:1 C420jpeg\n`, 'latin1'),
  ];
  for (let n = 0; n < o.frames; n++) {
    parts.push(Buffer.from('FRAME\n', 'latin1'), rgbToI420(o.draw(n), o.width, o.height));
  }
  writeFileSync(path, Buffer.concat(parts));
  return {
    path,
    width: o.width,
    height: o.height,
    fps: o.fps,
    frames: o.frames,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
