/**
 * The video-transform bot (`npm run example:video-transform`): the user's camera comes back transformed and
 * their audio comes back as it is. No API keys, no network.
 *
 * Serves http://localhost:7860 (`PORT` overrides; `HOST` sets the listen address) with the demo page (turn
 * the camera on there, or open `/?cam=1`) and signalling at `/api/offer` on the same port. Effects:
 * - `invert` (default): every colour becomes 255 - value;
 * - `edges`: a Sobel edge map of the picture's brightness, white edges on black;
 * - `counter`: the camera picture with the bot's frame counter drawn in its top-left corner;
 * - `none`: the picture as it came.
 * Choose one with `VIDEO_EFFECT=edges` or `--effect=edges`, or from the page while connected (it sends the
 * RTVI client-message `{ t: 'set-effect', d: { effect } }`). `VIDEO_OUT_WIDTH` / `VIDEO_OUT_HEIGHT` (default
 * 640 x 480) set the size the bot sends; other camera sizes are scaled to it natively.
 *
 * Where the time goes: VP8 decode, colour conversion, scaling and VP8 encode run on the addon's worker threads.
 * The effect itself runs here, on the JS thread, and is written to be cheap there: `invert` flips the bytes in
 * place four at a time (about 0.2 ms for 640 x 480), `counter` touches only the digits' pixels, `edges` is a
 * full pass over the picture (several ms; a demo of a heavier effect, not the default).
 */
import {
  FrameDirection,
  FrameProcessor,
  OutputImageRawFrame,
  Pipeline,
  PipelineRunner,
  PipelineTask,
  RTVIClientMessageFrame,
  RTVIProcessor,
  SmallWebRTCTransport,
  TransportParams,
  UserImageRawFrame,
  type Frame,
  type SmallWebRTCConnection,
} from '../src/index.js';
import { EchoProcessor } from './echo-bot.js';
import { isMain, serveBot } from './serve-bot.js';

/** The effects {@link VideoTransformProcessor} applies. */
export const VIDEO_EFFECTS = ['invert', 'edges', 'counter', 'none'] as const;

/** One of {@link VIDEO_EFFECTS}. */
export type VideoEffect = (typeof VIDEO_EFFECTS)[number];

/** Whether `v` names an effect. */
export function isVideoEffect(v: unknown): v is VideoEffect {
  return typeof v === 'string' && (VIDEO_EFFECTS as readonly string[]).includes(v);
}

/** Options of {@link VideoTransformProcessor}. */
export interface VideoTransformOptions {
  /** The effect at start. Default `invert`. */
  effect?: VideoEffect;
}

/**
 * Turns each camera picture (`UserImageRawFrame` from the camera) into an `OutputImageRawFrame` for the bot's
 * video track; screen-share pictures and every other frame pass through. An RTVI client-message `set-effect`
 * changes the effect.
 *
 * The camera frame's pixels are taken over: `invert` and `counter` rewrite them in place (the input transport
 * hands each picture over in a buffer of its own, so this costs no copy and no allocation) and the camera
 * frame itself is not passed on.
 */
export class VideoTransformProcessor extends FrameProcessor {
  /** Camera pictures transformed and sent on. */
  framesTransformed = 0;
  #effect: VideoEffect;
  #luma: Uint8Array | null = null;

  constructor(options: VideoTransformOptions = {}) {
    super();
    const effect = options.effect ?? 'invert';
    if (!isVideoEffect(effect)) throw new TypeError(`unknown effect ${String(effect)}`);
    this.#effect = effect;
  }

  /** The current effect. */
  get effect(): VideoEffect {
    return this.#effect;
  }

  set effect(effect: VideoEffect) {
    if (!isVideoEffect(effect)) throw new TypeError(`unknown effect ${String(effect)}`);
    this.#effect = effect;
  }

  override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (
      direction === FrameDirection.DOWNSTREAM &&
      frame instanceof UserImageRawFrame &&
      frame.transportSource === 'camera' &&
      frame.format === 'RGB'
    ) {
      const [width, height] = frame.size;
      const image = this.#apply(frame.image, width, height);
      this.framesTransformed++;
      await this.pushFrame(
        new OutputImageRawFrame({ image, size: [width, height], format: 'RGB' }),
        direction,
      );
      return;
    }
    if (frame instanceof RTVIClientMessageFrame && frame.type === 'set-effect') {
      const effect = (frame.data as { effect?: unknown } | null)?.effect;
      if (isVideoEffect(effect)) this.#effect = effect;
      return;
    }
    await this.pushFrame(frame, direction);
  }

  #apply(rgb: Uint8Array, width: number, height: number): Uint8Array {
    switch (this.#effect) {
      case 'invert':
        invertInPlace(rgb);
        return rgb;
      case 'counter':
        drawNumber(rgb, width, height, this.framesTransformed, 8, 8, 6);
        return rgb;
      case 'edges':
        return this.#sobel(rgb, width, height);
      case 'none':
        return rgb;
    }
  }

  /** Sobel magnitude of the brightness as grey RGB; two buffers reused while the size stays the same. */
  #sobel(rgb: Uint8Array, width: number, height: number): Uint8Array {
    const n = width * height;
    if (this.#luma?.length !== n) this.#luma = new Uint8Array(n);
    const luma = this.#luma;
    // Integer BT.601 weights (77, 150, 29) / 256.
    for (let i = 0, p = 0; i < n; i++, p += 3) {
      luma[i] = (77 * rgb[p]! + 150 * rgb[p + 1]! + 29 * rgb[p + 2]!) >> 8;
    }
    // A fresh output buffer: the previous one may still wait in the output track for its frame period.
    const out = new Uint8Array(n * 3);
    for (let y = 1; y < height - 1; y++) {
      const r = y * width;
      for (let x = 1; x < width - 1; x++) {
        const i = r + x;
        const a = luma[i - width - 1]!;
        const b = luma[i - width]!;
        const c = luma[i - width + 1]!;
        const d = luma[i - 1]!;
        const f = luma[i + 1]!;
        const g = luma[i + width - 1]!;
        const h = luma[i + width]!;
        const k = luma[i + width + 1]!;
        const gx = c + 2 * f + k - a - 2 * d - g;
        const gy = g + 2 * h + k - a - 2 * b - c;
        // |gx| + |gy| approximates the magnitude without a square root.
        const m = Math.min(255, (Math.abs(gx) + Math.abs(gy)) >> 1);
        const o = i * 3;
        out[o] = m;
        out[o + 1] = m;
        out[o + 2] = m;
      }
    }
    return out;
  }
}

/** 255 - v for every byte, four bytes per step where the buffer allows it. */
export function invertInPlace(bytes: Uint8Array): void {
  const head = (4 - (bytes.byteOffset % 4)) % 4;
  const start = Math.min(head, bytes.length);
  for (let i = 0; i < start; i++) bytes[i] = 255 - bytes[i]!;
  const words = (bytes.length - start) >> 2;
  // A buffer shorter than its unaligned head has no word (and a view there would be unaligned: RangeError).
  if (words > 0) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + start, words);
    // 255 - v === v ^ 0xff for a byte, so a 32-bit NOT inverts four at once.
    for (let i = 0; i < words; i++) w[i] = ~w[i]!;
  }
  for (let i = start + words * 4; i < bytes.length; i++) bytes[i] = 255 - bytes[i]!;
}

// 3x5 digit glyphs, one row of three bits per entry (bit 2 = left column).
const DIGITS: readonly (readonly number[])[] = [
  [7, 5, 5, 5, 7],
  [2, 6, 2, 2, 7],
  [7, 1, 7, 4, 7],
  [7, 1, 7, 1, 7],
  [5, 5, 7, 1, 1],
  [7, 4, 7, 1, 7],
  [7, 4, 7, 5, 7],
  [7, 1, 1, 1, 1],
  [7, 5, 7, 5, 7],
  [7, 5, 7, 1, 7],
];

/**
 * Draws `value` in decimal at (x0, y0) into packed RGB, each glyph pixel a `scale` x `scale` block: white
 * digits on a black box, clipped to the picture.
 */
export function drawNumber(
  rgb: Uint8Array,
  width: number,
  height: number,
  value: number,
  x0: number,
  y0: number,
  scale: number,
): void {
  const text = String(Math.max(0, Math.floor(value)));
  const boxW = (text.length * 4 + 1) * scale;
  const boxH = 7 * scale;
  const fill = (x: number, y: number, w: number, h: number, v: number): void => {
    for (let yy = Math.max(0, y); yy < Math.min(height, y + h); yy++) {
      for (let xx = Math.max(0, x); xx < Math.min(width, x + w); xx++) {
        const o = (yy * width + xx) * 3;
        rgb[o] = v;
        rgb[o + 1] = v;
        rgb[o + 2] = v;
      }
    }
  };
  fill(x0, y0, boxW, boxH, 0);
  for (let c = 0; c < text.length; c++) {
    const glyph = DIGITS[text.charCodeAt(c) - 48]!;
    for (let row = 0; row < 5; row++) {
      for (let col = 0; col < 3; col++) {
        if ((glyph[row]! >> (2 - col)) & 1) {
          fill(x0 + (c * 4 + 1 + col) * scale, y0 + (row + 1) * scale, scale, scale, 255);
        }
      }
    }
  }
}

/** Options of {@link runVideoTransformBot}. */
export interface VideoTransformBotOptions {
  /** The effect at start. Default `invert`. */
  effect?: VideoEffect;
  /** Size of the bot's video, pixels. Default 640 x 480. */
  width?: number;
  height?: number;
  /** Frames per second of the bot's video at most. Default 30. */
  framerate?: number;
  /** Called with the transport once it exists (tests observe frames and events through it). */
  onTransport?: (transport: SmallWebRTCTransport) => void;
  /** Called with the processor (tests and benches read its counter or switch effects). */
  onProcessor?: (processor: VideoTransformProcessor) => void;
  /** Extra processors placed between the input and the transform (tests tap the pipeline here). */
  taps?: FrameProcessor[];
}

/** Runs one video-transform session on `connection` until the client leaves. */
export async function runVideoTransformBot(
  connection: SmallWebRTCConnection,
  options: VideoTransformBotOptions = {},
): Promise<void> {
  const transport = new SmallWebRTCTransport({
    webrtcConnection: connection,
    params: new TransportParams({
      audioInEnabled: true,
      audioOutEnabled: true,
      videoInEnabled: true,
      videoOutEnabled: true,
      // Live: each transformed picture is sent once, as soon as it is ready (newest wins).
      videoOutIsLive: true,
      videoOutWidth: options.width ?? 640,
      videoOutHeight: options.height ?? 480,
      videoOutFramerate: options.framerate ?? 30,
      videoOutBitrate: 1_500_000,
    }),
  });
  options.onTransport?.(transport);
  const transform = new VideoTransformProcessor(
    options.effect !== undefined ? { effect: options.effect } : {},
  );
  options.onProcessor?.(transform);
  const echo = new EchoProcessor({
    backlogMs: () => transport.output().queuedFrames * 20 + transport.outputQueuedMs,
  });
  const pipeline = new Pipeline([
    transport.input(),
    new RTVIProcessor(),
    ...(options.taps ?? []),
    transform,
    echo,
    transport.output(),
  ]);
  const task = new PipelineTask(pipeline, { params: { allowInterruptions: false }, idleTimeoutSecs: null });
  transport.eventHandler('on_client_closed', async () => {
    await task.cancel();
  });
  await new PipelineRunner({ handleSigint: false }).run(task);
}

function effectFromArgs(): VideoEffect {
  const arg = process.argv.find((a) => a.startsWith('--effect='))?.slice('--effect='.length);
  const v = arg ?? process.env['VIDEO_EFFECT'] ?? 'invert';
  if (!isVideoEffect(v)) {
    throw new Error(`unknown effect ${v}: use one of ${VIDEO_EFFECTS.join(', ')}`);
  }
  return v;
}

function sizeFromEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 16 || n > 4096) throw new Error(`${name} must be an integer in [16, 4096]`);
  return n;
}

if (isMain(import.meta.url)) {
  const effect = effectFromArgs();
  const width = sizeFromEnv('VIDEO_OUT_WIDTH', 640);
  const height = sizeFromEnv('VIDEO_OUT_HEIGHT', 480);
  const server = await serveBot(`video-transform bot (${effect})`, (connection) =>
    runVideoTransformBot(connection, { effect, width, height }),
  );
  console.log(`turn the camera on in the page, or open ${server.url}/?cam=1`);
}
