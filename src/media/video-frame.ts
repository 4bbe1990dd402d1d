// Raw video images and colour conversion (libyuv, via native/binding/vp8_codec_wrap.cc's convertImage).
// Synchronous, on the calling thread: a 640x480 conversion costs a fraction of a millisecond (see
// bench/video).
import { SmallWebRTCRangeError, SmallWebRTCTypeError } from '../errors.js';
import { native } from '../native/binding.js';
import { checkBytes, checkInt, checkOptions } from './audio-args.js';

/**
 * Pixel layout of a raw image, named by its byte order in memory: `RGB` is R,G,B (what Pipecat's image
 * frames carry), `RGBA` R,G,B,A, `BGRA` B,G,R,A, and `I420` the Y plane followed by the U and V planes at
 * half resolution (rounded up), with no padding.
 */
export type PixelFormat = 'RGB' | 'RGBA' | 'BGRA' | 'I420';

/** Every {@link PixelFormat}. */
export const PIXEL_FORMATS: readonly PixelFormat[] = ['RGB', 'RGBA', 'BGRA', 'I420'];

/** Largest width or height accepted anywhere, pixels. */
export const MAX_VIDEO_DIMENSION = 16384;

/** A raw image: `data` holds exactly {@link imageBytes}(format, width, height) bytes. */
export interface VideoImage {
  data: Uint8Array;
  width: number;
  height: number;
  format: PixelFormat;
}

/** Bytes of a tightly packed image of this format and size. */
export function imageBytes(format: PixelFormat, width: number, height: number): number {
  checkInt('width', width, 1, MAX_VIDEO_DIMENSION);
  checkInt('height', height, 1, MAX_VIDEO_DIMENSION);
  switch (checkFormat('format', format)) {
    case 'RGB':
      return width * height * 3;
    case 'RGBA':
    case 'BGRA':
      return width * height * 4;
    case 'I420':
      return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
  }
}

/** Throws ERR_INVALID_ARG unless `value` is a {@link PixelFormat}. */
export function checkFormat(name: string, value: unknown): PixelFormat {
  if (typeof value !== 'string') {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${name} must be a string, got ${typeof value}`);
  }
  if (!(PIXEL_FORMATS as readonly string[]).includes(value)) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `${name} must be one of ${PIXEL_FORMATS.join(', ')}, got ${value}`,
    );
  }
  return value as PixelFormat;
}

/** Throws ERR_INVALID_ARG unless `value` is a {@link VideoImage} whose byte count matches its size. */
export function checkImage(name: string, value: unknown): VideoImage {
  const o = checkOptions(name, value, false);
  const data = checkBytes(`${name}.data`, o.data);
  const width = checkInt(`${name}.width`, o.width, 1, MAX_VIDEO_DIMENSION);
  const height = checkInt(`${name}.height`, o.height, 1, MAX_VIDEO_DIMENSION);
  const format = checkFormat(`${name}.format`, o.format);
  const want = imageBytes(format, width, height);
  if (data.length !== want) {
    throw new SmallWebRTCRangeError(
      'ERR_INVALID_ARG',
      `${name}.data must hold ${want} bytes for ${width}x${height} ${format}, got ${data.length}`,
    );
  }
  return { data, width, height, format };
}

/**
 * Converts `image` to `format`, scaling it (bilinear, in I420) to `width` x `height` when given; the
 * default size is the image's own.
 */
export function convertImage(
  image: VideoImage,
  format: PixelFormat,
  size?: { width: number; height: number },
): VideoImage {
  const img = checkImage('image', image);
  const f = checkFormat('format', format);
  const width = size === undefined ? img.width : checkInt('size.width', size.width, 1, MAX_VIDEO_DIMENSION);
  const height =
    size === undefined ? img.height : checkInt('size.height', size.height, 1, MAX_VIDEO_DIMENSION);
  return native().convertImage(img, f, width, height);
}
