import { isIP } from 'node:net';
import { SmallWebRTCError } from '../errors.js';
import { checkSdpText, DEFAULT_SIGNALLING_LIMITS } from '../validation.js';

// Candidates are input rules: they live in src/validation.ts with the others.
export { parseCandidate, type ParsedCandidate } from '../validation.js';

/** An SDP media direction (RFC 3264). */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** One payload type of an m-line, from its `a=rtpmap` / `a=fmtp` / `a=rtcp-fb` lines. */
export interface SdpCodec {
  /** RTP payload type (0-127). */
  payloadType: number;
  /** Encoding name as written in the SDP (`opus`, `VP8`, `H264`, `rtx`...). */
  name: string;
  /** RTP clock rate in Hz. */
  clockRate: number;
  /** Channel count (audio only, when given). */
  channels?: number;
  /** The `a=fmtp` parameters, verbatim. */
  fmtp?: string;
  /** The `a=rtcp-fb` values for this payload type (`nack`, `nack pli`, ...). */
  rtcpFb: string[];
}

/** One m-line of an SDP. */
export interface SdpMedia {
  /** Position among all m-lines (0-based). */
  mlineIndex: number;
  /** `audio`, `video`, `application` or another media type. */
  kind: string;
  /** Port of the m-line; 0 means the section is rejected/stopped. */
  port: number;
  /** Transport protocol, e.g. `UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`. */
  protocol: string;
  /** The format list of the m-line (payload types, or `webrtc-datachannel`). */
  formats: string[];
  /** `a=mid`, or null if absent. */
  mid: string | null;
  /** Direction attribute (default `sendrecv`). */
  direction: MediaDirection;
  /** Codecs in the m-line's preference order. */
  codecs: SdpCodec[];
  /** `a=extmap` entries (RTP header extensions). */
  extmaps: Array<{ id: number; uri: string }>;
  /** SSRCs announced with `a=ssrc`. */
  ssrcs: number[];
  /** The repair (RTX, FEC) SSRCs among them: the second and later of each `a=ssrc-group:FID` / `FEC-FR`. */
  repairSsrcs: number[];
  /** `a=max-message-size` of an application section, if present. */
  maxMessageSize: number | null;
}

/** A parsed session description (only the fields the connection needs). */
export interface ParsedSdp {
  media: SdpMedia[];
}

/** Upper bound on the SDP text we parse (UTF-16 code units); real offers are 2-10 KiB. */
export const MAX_SDP_LENGTH = DEFAULT_SIGNALLING_LIMITS.maxSdpLength;

/** Default cap on m-lines: the Pipecat client uses 3-4; anything far above is hostile or broken. */
export const DEFAULT_MAX_MEDIA_SECTIONS = DEFAULT_SIGNALLING_LIMITS.maxMediaSections;

/** The `sdes:mid` RTP header extension URI (RFC 8843). */
export const SDES_MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';

function invalid(message: string): SmallWebRTCError {
  return new SmallWebRTCError('ERR_INVALID_SDP', message);
}

const DIRECTIONS: ReadonlySet<string> = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/**
 * Validates an SDP offer and parses it far enough to pre-create the answering tracks, before anything reaches
 * libdatachannel: the text rules of `checkSdpText` (src/validation.ts; at most `maxMediaSections` m-lines),
 * then at least one usable audio, video or application section, a valid unique `a=mid` on each, an
 * `a=ice-ufrag` and a DTLS `a=fingerprint`. This is the one place an offer's content is validated.
 *
 * @throws SmallWebRTCError `ERR_INVALID_SDP` with a message naming what is wrong; SmallWebRTCTypeError
 *   `ERR_INVALID_ARG` when `sdp` is not a string.
 */
export function parseSdp(sdp: string, maxMediaSections = DEFAULT_MAX_MEDIA_SECTIONS): ParsedSdp {
  checkSdpText(sdp, { maxSdpLength: MAX_SDP_LENGTH, maxMediaSections });
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  const media: SdpMedia[] = [];
  let sessionDirection: MediaDirection = 'sendrecv';
  let current: SdpMedia | null = null;
  let hasFingerprint = false;
  let hasUfrag = false;
  for (const line of lines) {
    if (line.startsWith('m=')) {
      const parts = line.slice(2).trim().split(/\s+/);
      const [kind, portStr, protocol, ...formats] = parts;
      const port = Number((portStr ?? '').split('/')[0]);
      if (!kind || !protocol || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw invalid(`malformed m-line ${JSON.stringify(line.slice(0, 60))}`);
      }
      current = {
        mlineIndex: media.length,
        kind,
        port,
        protocol,
        formats,
        mid: null,
        direction: sessionDirection,
        codecs: [],
        extmaps: [],
        ssrcs: [],
        repairSsrcs: [],
        maxMessageSize: null,
      };
      media.push(current);
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const attr = line.slice(2);
    const colon = attr.indexOf(':');
    const name = colon < 0 ? attr : attr.slice(0, colon);
    const value = colon < 0 ? '' : attr.slice(colon + 1);
    if (name === 'fingerprint') hasFingerprint = true;
    if (name === 'ice-ufrag') hasUfrag = true;
    if (DIRECTIONS.has(name)) {
      if (current) current.direction = name as MediaDirection;
      else sessionDirection = name as MediaDirection;
      continue;
    }
    if (!current) continue;
    switch (name) {
      case 'mid':
        current.mid = value.trim();
        break;
      case 'rtpmap': {
        const m = /^(\d{1,3})\s+([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(value);
        if (!m) break;
        const pt = Number(m[1]);
        if (pt > 127) break;
        const codec = codecOf(current, pt);
        codec.name = m[2] ?? '';
        codec.clockRate = Number(m[3]);
        if (m[4] !== undefined) codec.channels = Number(m[4]);
        break;
      }
      case 'fmtp': {
        const m = /^(\d{1,3})\s+(.*)$/.exec(value);
        if (m && Number(m[1]) <= 127) codecOf(current, Number(m[1])).fmtp = (m[2] ?? '').trim();
        break;
      }
      case 'rtcp-fb': {
        const m = /^(\d{1,3}|\*)\s+(.*)$/.exec(value);
        if (m && m[1] !== '*' && Number(m[1]) <= 127)
          codecOf(current, Number(m[1])).rtcpFb.push((m[2] ?? '').trim());
        break;
      }
      case 'extmap': {
        const m = /^(\d{1,3})(?:\/\w+)?\s+(\S+)/.exec(value);
        if (m) current.extmaps.push({ id: Number(m[1]), uri: m[2] ?? '' });
        break;
      }
      case 'ssrc': {
        const m = /^(\d{1,10})\s/.exec(value);
        if (m) {
          const ssrc = Number(m[1]);
          if (ssrc <= 0xffffffff && !current.ssrcs.includes(ssrc)) current.ssrcs.push(ssrc);
        }
        break;
      }
      case 'ssrc-group': {
        const m = /^(FID|FEC-FR)((?:\s+\d{1,10})+)\s*$/.exec(value);
        if (m) {
          for (const x of (m[2] ?? '').trim().split(/\s+/).slice(1)) {
            const ssrc = Number(x);
            if (ssrc <= 0xffffffff && !current.repairSsrcs.includes(ssrc)) current.repairSsrcs.push(ssrc);
          }
        }
        break;
      }
      case 'max-message-size': {
        const n = Number(value.trim());
        if (Number.isSafeInteger(n) && n >= 0) current.maxMessageSize = n;
        break;
      }
      default:
        break;
    }
  }
  for (const m of media) {
    // Keep only payload types listed on the m-line, in its order (the offerer's preference order).
    if (m.kind === 'audio' || m.kind === 'video') {
      const order = m.formats.map(Number);
      m.codecs = m.codecs
        .filter((c) => order.includes(c.payloadType) && c.name !== '')
        .sort((a, b) => order.indexOf(a.payloadType) - order.indexOf(b.payloadType));
    } else {
      m.codecs = []; // an application (or unknown) section has no RTP payload types: ignore any rtpmap
    }
  }
  const usable = media.filter(
    (m) => m.port !== 0 && (m.kind === 'audio' || m.kind === 'video' || m.kind === 'application'),
  );
  if (usable.length === 0) throw invalid('sdp has no audio, video or data (application) section');
  for (const m of usable) {
    if (m.mid === null || m.mid === '') throw invalid(`media section ${m.mlineIndex} has no a=mid`);
    if (m.mid.length > 32 || !/^[\w.\-~!#$%&'*+^`{|}]+$/.test(m.mid)) {
      throw invalid(`media section ${m.mlineIndex} has an invalid mid`);
    }
  }
  const mids = usable.map((m) => m.mid);
  if (new Set(mids).size !== mids.length) throw invalid('sdp has duplicate mids');
  // One SCTP association per peer connection (RFC 8841): libdatachannel answers only the last application
  // section of an offer with several, so its answer would lack m-lines the offer has (RFC 3264 forbids it).
  if (usable.filter((m) => m.kind === 'application').length > 1) {
    throw invalid('sdp has more than one data channel (application) section');
  }
  if (!hasFingerprint) throw invalid('sdp has no a=fingerprint (DTLS is required)');
  if (!hasUfrag) throw invalid('sdp has no a=ice-ufrag');
  return { media };
}

function codecOf(m: SdpMedia, pt: number): SdpCodec {
  let c = m.codecs.find((x) => x.payloadType === pt);
  if (!c) {
    c = { payloadType: pt, name: '', clockRate: 0, rtcpFb: [] };
    m.codecs.push(c);
  }
  return c;
}

/** Whether a direction includes sending (from the point of view of the side that wrote it). */
export function directionSends(d: MediaDirection): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}

/** Whether a direction includes receiving. */
export function directionReceives(d: MediaDirection): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

/**
 * The answer direction for an m-line: what we want (`desired`) intersected with the mirror of what the
 * offer allows (RFC 3264 §6.1). Offer sendonly -> at most recvonly; recvonly -> at most sendonly; inactive ->
 * inactive. Pipecat wants transceivers 0 and 1 `sendrecv` and 2+ `recvonly` (docs/protocol.md, "The server's
 * answer").
 */
export function answerDirection(desired: MediaDirection, offered: MediaDirection): MediaDirection {
  const send = directionSends(desired) && directionReceives(offered);
  const recv = directionReceives(desired) && directionSends(offered);
  if (send && recv) return 'sendrecv';
  if (send) return 'sendonly';
  if (recv) return 'recvonly';
  return 'inactive';
}

/**
 * Rewrites the address of every `typ host` candidate (and matching `c=` lines) to `advertisedIp`, for a
 * server behind 1:1 NAT or in a Docker container with published UDP ports (the ports stay as gathered, so the
 * published port range must equal the bound one). Other candidate types are left alone.
 */
export function rewriteHostCandidates(sdp: string, advertisedIp: string): string {
  const family = isIP(advertisedIp) === 6 ? 'IP6' : 'IP4';
  const replaced = new Set<string>();
  const lines = sdp.split(/\r\n|\n/);
  const out = lines.map((line) => {
    if (!line.startsWith('a=candidate:')) return line;
    const parts = line.split(' ');
    const typIdx = parts.indexOf('typ');
    if (typIdx < 0 || parts[typIdx + 1] !== 'host' || parts.length < 8) return line;
    const addr = parts[4];
    if (addr === undefined) return line;
    replaced.add(addr);
    parts[4] = advertisedIp;
    return parts.join(' ');
  });
  return out
    .map((line) => {
      const m = /^c=IN (IP4|IP6) (\S+)$/.exec(line);
      return m && replaced.has(m[2] ?? '') ? `c=IN ${family} ${advertisedIp}` : line;
    })
    .join('\r\n');
}
