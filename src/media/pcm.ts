// Small PCM helpers for the rare paths that stay in JS (the per-packet media work is native). JS thread.

/**
 * Averages interleaved `channels`-channel PCM into mono (floor of the mean, so stereo gives (L + R) >> 1).
 * A trailing partial sample group is ignored.
 */
export function downmixToMono(pcm: Int16Array, channels: number): Int16Array {
  const n = Math.floor(pcm.length / channels);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += pcm[i * channels + c] ?? 0;
    out[i] = Math.floor(sum / channels);
  }
  return out;
}
