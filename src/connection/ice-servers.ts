import type { IceServer as NdcIceServer } from 'node-datachannel';
import { parseIceUrl, type IceServer } from '../validation.js';
import { getLogger } from '../logger.js';

// The rules for ICE server lists live with every other input rule in src/validation.ts.
export { normalizeIceServers, type IceServer } from '../validation.js';

const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message) || warned.size > 100) return;
  warned.add(message);
  getLogger().warn(message);
}

/** What node-datachannel's `RtcConfig.iceServers` accepts: its object form, so credentials need no escaping. */
export type NodeDataChannelIceServer = NdcIceServer;

/**
 * Maps normalized ICE servers to node-datachannel's `iceServers` entries: `stun:` -> `{hostname, port}`,
 * `turn:` (udp) -> `TurnUdp`, `turn:...?transport=tcp` -> `TurnTcp`, `turns:` -> `TurnTls`, each with the
 * username/password passed verbatim (the object form needs no URL escaping of `:` or `@` in credentials).
 * `stuns:` (STUN over TLS) is not supported by libjuice and is used as plain STUN on the same host/port.
 * Caveat (verified with coturn): the prebuilt node-datachannel uses libjuice, which is UDP-only, so TURN/TCP
 * and TURN/TLS entries are ignored at gathering time (a warning is logged once per URL); use TURN over UDP.
 */
export function toNodeDataChannelIceServers(servers: readonly IceServer[]): NodeDataChannelIceServer[] {
  const out: NodeDataChannelIceServer[] = [];
  for (const s of servers) {
    for (const url of typeof s.urls === 'string' ? [s.urls] : s.urls) {
      const p = parseIceUrl(url, 'iceServers');
      if (p.relayType === 'TurnTcp' || p.relayType === 'TurnTls') {
        // Verified against coturn: node-datachannel's prebuilt ICE backend (libjuice) is UDP-only and skips
        // these entries silently. Passed on anyway (a future build may support them), but say so once.
        warnOnce(
          `ICE server ${url}: TURN over TCP/TLS is not supported by node-datachannel (libjuice, UDP only); ignored`,
        );
      }
      if (!p.turn) {
        out.push({ hostname: p.hostname, port: p.port });
      } else {
        out.push({
          hostname: p.hostname,
          port: p.port,
          username: s.username ?? '',
          password: s.credential ?? '',
          relayType: p.relayType ?? 'TurnUdp',
        });
      }
    }
  }
  return out;
}
