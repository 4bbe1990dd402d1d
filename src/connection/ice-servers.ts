import type { IceServer as NdcIceServer } from 'node-datachannel';
import { parseIceUrl, type IceServer } from '../validation.js';

// The rules for ICE server lists live with every other input rule in src/validation.ts.
export { normalizeIceServers, type IceServer } from '../validation.js';

/** What node-datachannel's `RtcConfig.iceServers` accepts: its object form, so credentials need no escaping. */
export type NodeDataChannelIceServer = NdcIceServer;

/**
 * Maps normalized ICE servers to node-datachannel's `iceServers` entries: `stun:` -> `{hostname, port}`,
 * `turn:` (udp) -> `TurnUdp`, `turn:...?transport=tcp` -> `TurnTcp`, `turns:` -> `TurnTls`, each with the
 * username/password passed verbatim (the object form needs no URL escaping of `:` or `@` in credentials).
 * The TCP/TLS forms are mapped for a node-datachannel built with libnice; `normalizeIceServers` refuses them
 * (`ERR_UNSUPPORTED_ICE_SERVER`) with the prebuilt, libjuice one, so a connection never passes them on.
 */
export function toNodeDataChannelIceServers(servers: readonly IceServer[]): NodeDataChannelIceServer[] {
  const out: NodeDataChannelIceServer[] = [];
  for (const s of servers) {
    for (const url of typeof s.urls === 'string' ? [s.urls] : s.urls) {
      const p = parseIceUrl(url, 'iceServers');
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
