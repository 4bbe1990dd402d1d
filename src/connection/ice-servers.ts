import type { IceServer as NdcIceServer } from 'node-datachannel';
import { SmallWebRTCTypeError } from '../errors.js';
import { getLogger } from '../logger.js';

const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message) || warned.size > 100) return;
  warned.add(message);
  getLogger().warn(message);
}

/**
 * An ICE server as in the W3C `RTCIceServer` / aiortc `RTCIceServer` (Pipecat's `IceServer`): one or more
 * `stun:`, `stuns:`, `turn:` or `turns:` URLs sharing one set of credentials.
 */
export interface IceServer {
  /** `stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]`, `turns:host[:port][?transport=tcp]`. */
  urls: string | string[];
  /** TURN username (required for `turn:`/`turns:`). */
  username?: string;
  /** TURN password (required for `turn:`/`turns:`). */
  credential?: string;
}

/** What node-datachannel's `RtcConfig.iceServers` accepts: its object form, so credentials need no escaping. */
export type NodeDataChannelIceServer = NdcIceServer;

const URL_RE =
  /^(stuns?|turns?):(?:\/\/)?(\[[0-9A-Fa-f:.]+\]|[^:?#/@[\]\s]+)(?::(\d{1,5}))?(?:\?([^#\s]*))?$/i;

/**
 * Validates the `iceServers` option and returns a normalized `IceServer[]`.
 *
 * Mirrors Pipecat (`conn.py` L245-271): a list of URL strings or a list of `IceServer` objects; a mixed list
 * is a `TypeError`. Every URL is checked here so a typo fails at construction, not at gathering time.
 */
export function normalizeIceServers(input: unknown): IceServer[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new SmallWebRTCTypeError('ERR_INVALID_ARG', 'iceServers must be an array');
  const strings = input.filter((s) => typeof s === 'string').length;
  if (strings !== 0 && strings !== input.length) {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      'iceServers must be all URL strings or all IceServer objects, not a mix',
    );
  }
  const out: IceServer[] = [];
  input.forEach((item: unknown, i: number) => {
    if (typeof item === 'string') {
      parseIceUrl(item, `iceServers[${i}]`);
      out.push({ urls: item });
      return;
    }
    if (typeof item !== 'object' || item === null) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        `iceServers[${i}] must be a string or an IceServer object`,
      );
    }
    const { urls, username, credential } = item as Record<string, unknown>;
    const list = typeof urls === 'string' ? [urls] : urls;
    if (!Array.isArray(list) || list.length === 0 || !list.every((u) => typeof u === 'string')) {
      throw new SmallWebRTCTypeError(
        'ERR_INVALID_ARG',
        `iceServers[${i}].urls must be a string or a non-empty array of strings`,
      );
    }
    if (username !== undefined && username !== null && typeof username !== 'string') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `iceServers[${i}].username must be a string`);
    }
    if (credential !== undefined && credential !== null && typeof credential !== 'string') {
      throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `iceServers[${i}].credential must be a string`);
    }
    for (const u of list as string[]) {
      const parsed = parseIceUrl(u, `iceServers[${i}].urls`);
      if (parsed.turn && (typeof username !== 'string' || typeof credential !== 'string')) {
        throw new SmallWebRTCTypeError(
          'ERR_INVALID_ARG',
          `iceServers[${i}]: TURN URL ${u} needs username and credential`,
        );
      }
    }
    const server: IceServer = { urls: [...(list as string[])] };
    if (typeof username === 'string') server.username = username;
    if (typeof credential === 'string') server.credential = credential;
    out.push(server);
  });
  return out;
}

interface ParsedIceUrl {
  turn: boolean;
  hostname: string;
  port: number;
  relayType?: 'TurnUdp' | 'TurnTcp' | 'TurnTls';
}

function parseIceUrl(url: string, field: string): ParsedIceUrl {
  const m = URL_RE.exec(url.trim());
  if (!m)
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      `${field}: invalid ICE server URL ${JSON.stringify(url)}`,
    );
  const scheme = (m[1] ?? '').toLowerCase();
  const hostname = (m[2] ?? '').replace(/^\[|\]$/g, '');
  const secure = scheme === 'stuns' || scheme === 'turns';
  const port = m[3] !== undefined ? Number(m[3]) : secure ? 5349 : 3478;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SmallWebRTCTypeError('ERR_INVALID_ARG', `${field}: invalid port in ${JSON.stringify(url)}`);
  }
  const transport = /(?:^|&)transport=([a-z]+)/i.exec(m[4] ?? '')?.[1]?.toLowerCase();
  if (transport !== undefined && transport !== 'udp' && transport !== 'tcp') {
    throw new SmallWebRTCTypeError(
      'ERR_INVALID_ARG',
      `${field}: unsupported transport=${transport} in ${url}`,
    );
  }
  if (scheme.startsWith('stun')) return { turn: false, hostname, port };
  // turns: is TURN over TLS (TCP); RFC 7065 has no DTLS variant in libjuice, so transport=udp maps to TLS too.
  const relayType = scheme === 'turns' ? 'TurnTls' : transport === 'tcp' ? 'TurnTcp' : 'TurnUdp';
  return { turn: true, hostname, port, relayType };
}

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
