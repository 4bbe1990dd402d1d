// Video codec negotiation: the server decodes and encodes VP8 only, so an offer without VP8 must not get a
// video m-line accepted with a codec it cannot handle.
import { afterAll, describe, expect, it } from 'vitest';

import { SmallWebRTCConnection } from '../../src/index.js';
import { PipecatLikeClient } from '../../testkit/pipecat-like-client.js';

const clients: PipecatLikeClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
});

describe('video codec negotiation', () => {
  it('an H264-only offer gets its video m-line answered inactive (this server speaks VP8), audio still works', async () => {
    const off = await PipecatLikeClient.create({ trickle: false, screen: false });
    clients.push(off);
    // Strip VP8 from the camera m-line of a real offer: H264 (and its RTX) remain.
    const lines = off.offer.sdp.split('\r\n');
    const vp8 = new Set<string>();
    let inVideo = false;
    for (const l of lines) {
      if (l.startsWith('m=')) inVideo = l.startsWith('m=video');
      const m = /^a=rtpmap:(\d+) VP8\//.exec(l);
      if (inVideo && m) vp8.add(m[1]!);
    }
    inVideo = false;
    const h264Only = lines
      .map((l) => {
        if (l.startsWith('m=')) inVideo = l.startsWith('m=video');
        if (!inVideo) return l;
        if (l.startsWith('m=video'))
          return l
            .split(' ')
            .filter((t, i) => i < 3 || !vp8.has(t))
            .join(' ');
        const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/.exec(l)?.[1];
        if (pt !== undefined && vp8.has(pt)) return null;
        // RTX bound to VP8 goes too.
        const apt = /^a=fmtp:\d+ apt=(\d+)/.exec(l)?.[1];
        return apt !== undefined && vp8.has(apt) ? null : l;
      })
      .filter((l): l is string => l !== null)
      .join('\r\n');
    expect(h264Only).not.toMatch(/VP8/);
    const conn = new SmallWebRTCConnection({ bindAddress: '127.0.0.1' });
    await conn.initialize({ sdp: h264Only, type: 'offer' });
    const answer = conn.getAnswer()!.sdp;
    const videoSections = answer.split(/\r\n(?=m=)/).filter((sct) => sct.startsWith('m=video'));
    expect(videoSections).toHaveLength(1);
    for (const sct of videoSections) expect(sct).toMatch(/a=inactive/);
    expect(answer.split(/\r\n(?=m=)/).find((sct) => sct.startsWith('m=audio'))).toMatch(/a=sendrecv/);
    expect(conn.videoInputTrack()).toBeNull();
    await conn.close();
  });
});
