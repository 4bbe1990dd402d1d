import { describe, expect, it } from 'vitest';

import { invertInPlace } from '../../examples/video-transform.js';

describe('video-transform invert', () => {
  it('inverts every byte whatever the buffer offset and length', () => {
    const backing = new Uint8Array(1000);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 37 + 11) & 0xff;
    for (const offset of [0, 1, 3, 7, 8, 13]) {
      for (const length of [0, 1, 7, 8, 9, 64, 301, 900]) {
        const src = backing.slice();
        const view = src.subarray(offset, offset + length);
        invertInPlace(view);
        for (let i = 0; i < backing.length; i++) {
          const inside = i >= offset && i < offset + length;
          expect(src[i], `offset ${offset} length ${length} byte ${i}`).toBe(
            inside ? 255 - backing[i]! : backing[i]!,
          );
        }
      }
    }
  });
});
