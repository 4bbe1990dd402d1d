// The pure-JS resampler of the bench's "what a Node developer would otherwise write" path: a streaming,
// mono, rational-ratio windowed-sinc interpolator (Blackman window, 8 zero crossings per side of the
// kernel at the lower of the two Nyquist rates, one precomputed kernel per phase, each normalised to unity
// DC gain). Float32 arithmetic, Int16 in and out. Not used by the library: bench/micro only.

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Streaming windowed-sinc resampler (mono Int16). */
export class JsSincResampler {
  readonly #up: number; // L: output samples per `#down` input samples
  readonly #down: number; // M
  readonly #half: number; // kernel half-width, input samples
  readonly #phases: Float32Array[];
  #buf: Float32Array;
  #bufLen: number;
  #base: number; // absolute input index of #buf[0]
  #nextOut = 0; // absolute index of the next output sample

  constructor(inRate: number, outRate: number, zeroCrossings = 8) {
    const g = gcd(inRate, outRate);
    this.#up = outRate / g;
    this.#down = inRate / g;
    const fc = Math.min(1, this.#up / this.#down); // cutoff relative to the input Nyquist
    this.#half = Math.ceil(zeroCrossings / fc);
    const taps = 2 * this.#half;
    this.#phases = [];
    for (let p = 0; p < this.#up; p++) {
      const frac = p / this.#up;
      const k = new Float32Array(taps);
      let sum = 0;
      for (let j = 0; j < taps; j++) {
        const x = this.#half - 1 - j + frac; // distance from the output instant, input samples
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * fc * x) / (Math.PI * fc * x);
        const w = x / this.#half; // -1..1
        const blackman =
          Math.abs(w) >= 1 ? 0 : 0.42 + 0.5 * Math.cos(Math.PI * w) + 0.08 * Math.cos(2 * Math.PI * w);
        k[j] = sinc * blackman;
        sum += k[j]!;
      }
      for (let j = 0; j < taps; j++) k[j] = k[j]! / sum;
      this.#phases.push(k);
    }
    // Start with a half-kernel of zeros as history, so output 0 is centred on input 0.
    this.#buf = new Float32Array(4096);
    this.#bufLen = this.#half;
    this.#base = -this.#half;
  }

  /** Resamples one chunk; returns the output samples it completes (steady state: exact ratio). */
  process(input: Int16Array): Int16Array {
    if (this.#bufLen + input.length > this.#buf.length) {
      const bigger = new Float32Array((this.#bufLen + input.length) * 2);
      bigger.set(this.#buf.subarray(0, this.#bufLen));
      this.#buf = bigger;
    }
    const buf = this.#buf;
    for (let i = 0; i < input.length; i++) buf[this.#bufLen + i] = input[i]!;
    this.#bufLen += input.length;
    const available = this.#base + this.#bufLen; // absolute input samples received
    const out = new Int16Array(Math.ceil((input.length * this.#up) / this.#down) + 2);
    let n = 0;
    const taps = 2 * this.#half;
    for (;;) {
      const num = this.#nextOut * this.#down;
      const i0 = Math.floor(num / this.#up);
      if (i0 + this.#half > available - 1 || n >= out.length) break; // kernel needs input not yet here
      const kernel = this.#phases[num % this.#up]!;
      const start = i0 - this.#half + 1 - this.#base;
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += buf[start + j]! * kernel[j]!;
      out[n++] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc);
      this.#nextOut++;
    }
    // Drop input no future output needs (keep the kernel's left half of history).
    const keepFrom = Math.floor((this.#nextOut * this.#down) / this.#up) - this.#half + 1 - this.#base;
    if (keepFrom > 0) {
      buf.copyWithin(0, keepFrom, this.#bufLen);
      this.#bufLen -= keepFrom;
      this.#base += keepFrom;
    }
    return n === out.length ? out : out.subarray(0, n);
  }
}
