// src/validation.ts is the one set of input rules: the connection's SDP parser, the request handler and the
// ICE server checks of both the handler and the connection give the same coded errors for the same input.
import { describe, expect, it } from 'vitest';
import { SmallWebRTCConnection } from '../../src/connection/index.js';
import { parseSdp } from '../../src/connection/sdp.js';
import { ConnectionMode, SmallWebRTCRequestHandler } from '../../src/server/request-handler.js';
import {
  checkRemoteCandidate,
  checkSdpText,
  checkSignallingLimits,
  normalizeIceServers,
  parseCandidate,
  parsePatchRequest,
} from '../../src/validation.js';

const HEAD = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n';
const AUDIO = 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

/** What `fn` threw, as `{ name, code, message }`. */
function caught(fn: () => unknown): { name: string; code: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    const e = err as Error & { code?: unknown };
    return { name: e.name, code: e.code, message: e.message };
  }
  throw new Error('expected a throw');
}

describe('one set of input rules', () => {
  const badOffers: Array<[string, unknown]> = [
    ['not a string', 42],
    ['empty', ''],
    ['not SDP', 'hello world'],
    ['control characters', HEAD + AUDIO + 'a=x\u0001\r\n'],
    ['a malformed line', HEAD + '<script>\r\n'],
    ['a malformed m= line', HEAD + 'm=audio x\r\n'],
    ['no o= line', 'v=0\r\ns=-\r\n' + AUDIO],
    ['no media', HEAD],
    ['too many sections', HEAD + AUDIO.repeat(17)],
    ['too long', HEAD + 'a=x\r\n'.repeat(30_000)],
  ];
  for (const [name, sdp] of badOffers) {
    it(`an offer with ${name}: the connection's parser and checkSdpText throw the same coded error`, () => {
      const direct = caught(() => checkSdpText(sdp));
      expect(['ERR_INVALID_SDP', 'ERR_INVALID_ARG']).toContain(direct.code);
      expect(caught(() => parseSdp(sdp as string))).toEqual(direct);
    });
  }

  it('the request handler rejects the offer content with the same message, via the connection, as a 400', async () => {
    const handler = new SmallWebRTCRequestHandler({ limits: { maxMediaSections: 2 } });
    try {
      const sdp = HEAD + AUDIO.repeat(3);
      await expect(handler.handleWebRequest({ type: 'offer', sdp })).rejects.toMatchObject({
        code: 'ERR_HTTP',
        status: 400,
        detail: expect.stringContaining(
          caught(() => checkSdpText(sdp, { maxSdpLength: 1e5, maxMediaSections: 2 })).message,
        ),
      });
      await expect(handler.handleWebRequest({ type: 'offer', sdp: 7 })).rejects.toMatchObject({
        status: 400,
        detail: 'sdp must be a string',
      });
    } finally {
      await handler.close();
    }
  });

  it('candidates: the PATCH body check and the connection use one pattern', () => {
    const good = 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host';
    expect(parseCandidate(good)).toMatchObject({ address: '127.0.0.1', port: 50000, type: 'host' });
    expect(parsePatchRequest({ pc_id: 'x', candidates: [{ candidate: `a=${good}` }] }).candidates[0]).toEqual(
      {
        candidate: good,
        sdpMid: null,
        sdpMLineIndex: null,
      },
    );
    // Loose enough for a "\S+" pattern, not for RFC 8839's foundation and address grammar.
    for (const bad of [
      'candidate:f<o> 1 udp 1 127.0.0.1 1 typ host',
      'candidate:1 1 udp 1 127.0.0.1;rm 1 typ host',
      'candidate:1 1 udp 1 127.0.0.1 70000 typ host',
    ]) {
      expect(parseCandidate(bad)).toBeNull();
      expect(caught(() => parsePatchRequest({ pc_id: 'x', candidates: [{ candidate: bad }] }))).toMatchObject(
        {
          code: 'ERR_INVALID_CANDIDATE',
          message: 'candidates[0].candidate is not an ICE candidate',
        },
      );
    }
  });

  it("candidates: a PATCH entry and addIceCandidate's argument follow the same field rules", () => {
    const good = 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host';
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ candidate: 'candidate:x y' }, 'ERR_INVALID_CANDIDATE', /candidate is not an ICE candidate$/],
      [{ candidate: 5 }, 'ERR_INVALID_ARG', /candidate must be a string$/],
      [{ candidate: good, sdpMid: 'm'.repeat(65) }, 'ERR_INVALID_ARG', /must be a short string or null$/],
      [
        { candidate: good, sdpMLineIndex: 1024 },
        'ERR_INVALID_ARG',
        /must be a non-negative integer or null$/,
      ],
      [{ candidate: good, sdpMLineIndex: -1 }, 'ERR_INVALID_ARG', /must be a non-negative integer or null$/],
    ];
    for (const [entry, code, message] of cases) {
      const direct = caught(() => checkRemoteCandidate(entry as never));
      const patch = caught(() => parsePatchRequest({ pc_id: 'x', candidates: [entry] }));
      expect(direct).toMatchObject({ code, message: expect.stringMatching(message) });
      expect(patch).toMatchObject({ code, name: direct.name, message: expect.stringMatching(message) });
    }
    expect(checkRemoteCandidate({ candidate: '  ' })).toBeNull();
    expect(checkRemoteCandidate({ candidate: good, sdpMid: '0' })).toMatchObject({ sdpMid: '0', text: good });
  });

  it('ICE servers: the handler and the connection reject the same lists with the same coded TypeError', () => {
    for (const list of [
      ['stun:127.0.0.1', { urls: 'stun:127.0.0.1' }],
      ['http://example.org'],
      [{ urls: 'turn:127.0.0.1' }],
      'stun:127.0.0.1',
    ]) {
      const expected = caught(() => normalizeIceServers(list));
      expect(expected).toMatchObject({ name: 'SmallWebRTCTypeError', code: 'ERR_INVALID_ARG' });
      expect(caught(() => new SmallWebRTCRequestHandler({ iceServers: list as never }))).toEqual(expected);
      expect(caught(() => new SmallWebRTCConnection({ iceServers: list as never }))).toEqual(expected);
      const handler = new SmallWebRTCRequestHandler({ connectionMode: ConnectionMode.SINGLE });
      expect(caught(() => handler.updateIceServers(list as never))).toEqual(expected);
    }
  });

  it('limits are checked when the handler is built', () => {
    expect(checkSignallingLimits({ maxCandidates: 5 })).toMatchObject({
      maxCandidates: 5,
      maxMediaSections: 16,
    });
    for (const limits of [{ maxMediaSections: 65 }, { maxSdpLength: 0 }, { maxCandidates: 1.5 }]) {
      expect(caught(() => new SmallWebRTCRequestHandler({ limits }))).toMatchObject({
        name: 'SmallWebRTCRangeError',
        code: 'ERR_INVALID_ARG',
      });
    }
  });
});

describe('SDP ssrc lines', () => {
  it('a=ssrc-group:FID marks the repair (RTX) SSRCs, so a PLI before the first packet names the media one', () => {
    const video =
      'm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\n' +
      'a=fmtp:97 apt=96\r\na=ssrc-group:FID 1111 2222\r\na=ssrc:2222 cname:x\r\na=ssrc:1111 cname:x\r\n' +
      'a=ssrc-group:SIM 1111 3333\r\n';
    const fp = 'a=fingerprint:sha-256 AA:BB\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n';
    const m = parseSdp(HEAD + fp + video).media[0]!;
    expect(m.ssrcs).toEqual([2222, 1111]);
    expect(m.repairSsrcs).toEqual([2222]);
    expect(m.ssrcs.find((x) => !m.repairSsrcs.includes(x))).toBe(1111);
    expect(
      parseSdp(HEAD + fp + 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=ssrc-group:FID x y\r\n').media[0]!
        .repairSsrcs,
    ).toEqual([]);
  });
});
