// Answer munging for ESP32 clients (Pipecat's `esp32_mode`).

/**
 * ESP32 answer munging (docs/protocol.md, "ESP32 answer munging"; Pipecat `smallwebrtc_sdp_munging`): drop
 * every line mentioning `sha-384` or `sha-512` (the ESP32 stack only does sha-256), and when `host` is set
 * keep only `a=candidate` lines that contain `host` and no `raddr` (host candidates of that address). Python
 * uses `host` as a regex; we match it literally (a subset for IP addresses, and no regex injection). Lines
 * are re-joined with CRLF.
 */
export function mungeSdpForEsp32(sdp: string, host: string | null | undefined): string {
  const lines = sdp.split(/\r?\n/).filter((line) => line.length > 0);
  const kept = lines.filter((line) => {
    if (line.includes('sha-384') || line.includes('sha-512')) return false;
    if (host && line.startsWith('a=candidate')) return line.includes(host) && !line.includes('raddr');
    return true;
  });
  return kept.join('\r\n') + '\r\n';
}
