// The smoke test's application: copied into an empty project where the packed small-webrtc tarball was
// installed (see scripts/smoke/lib.mjs), and run there with the Node binary under test. It uses the package
// the way a user does, by its name, and checks four things:
//   1. addon: the native binary node-gyp-build picks for this platform loads (its path and version info are
//      printed: a prebuild under prebuilds/<platform>-<arch>/, codecs linked statically);
//   2. opus: a 440 Hz tone goes through the public API, AudioSender (Opus encode + RTP) -> parseRtp ->
//      AudioReceiver (jitter buffer, Opus decode, 48 -> 16 kHz resampling), and comes out as a tone;
//   3. vp8: a 160x120 RGB gradient goes through Vp8Encoder (RGB -> I420 in libyuv, libvpx encode) and
//      Vp8Decoder (libvpx decode, I420 -> RGB) and comes back close to the original;
//   4. server: startSmallWebRTCServer listens on 127.0.0.1, port 0;
//   5. offer: a node-datachannel peer bound to 127.0.0.1 offers audio + a data channel like the Pipecat web
//      client, POSTs it to /api/offer, applies the answer, and both ends reach `connected` (the data channel
//      opens on the peer's side).
// Prints one JSON line with the results and timings (ms); exits 1 with the reason on the first failure, and
// after SMOKE_TIMEOUT_MS (default 120 s: the arm64 run is emulated by qemu, ~5-10x slower).
/* global fetch */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import nodeDataChannel from 'node-datachannel';
import {
  AudioReceiver,
  AudioSender,
  Vp8Decoder,
  Vp8Encoder,
  parseRtp,
  startSmallWebRTCServer,
} from 'small-webrtc';

const require = createRequire(import.meta.url);
const t0 = performance.now();
const ms = () => Math.round(performance.now() - t0);
const result = { node: process.version, arch: process.arch, platform: process.platform };

function fail(what) {
  console.error(`smoke: FAILED: ${what}`);
  console.log(JSON.stringify({ ...result, ok: false, failed: what }));
  process.exit(1);
}
const timeoutMs = Number(process.env.SMOKE_TIMEOUT_MS ?? 120_000);
setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs).unref();

// 1. The binary node-gyp-build resolves from the installed package's root, as the package itself does.
const pkgRoot = dirname(require.resolve('small-webrtc/package.json'));
const nodeGypBuild = createRequire(require.resolve('small-webrtc/package.json'))('node-gyp-build');
const addonPath = nodeGypBuild.path(pkgRoot);
const info = require(addonPath).version();
result.addon = { path: addonPath.slice(pkgRoot.length + 1), ...info };
if (!info.staticCodecs) fail(`the addon at ${addonPath} is not the static prebuild`);

// 2. 200 ms of 440 Hz (amplitude 8000) -> Opus RTP -> parsed -> decoded at 16 kHz.
const sender = new AudioSender({ sampleRate: 48000, channels: 1, ssrc: 1234, payloadType: 111 });
const tone = new Int16Array(48000 / 5);
for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
const accepted = sender.write(tone);
const receiver = new AudioReceiver({ sampleRate: 16000, channels: 1, payloadType: 111 });
const frames = [];
const seqs = [];
for (let t = 0; t <= 200; t += 20) {
  for (const packet of sender.pull(t)) {
    seqs.push(parseRtp(packet).sequenceNumber);
    frames.push(...receiver.push(packet, t));
  }
}
const last = frames[frames.length - 2];
let sum = 0;
for (const v of last?.audio ?? []) sum += v * v;
const rms = last ? Math.round(Math.sqrt(sum / last.audio.length)) : 0;
const consecutive = seqs.every((s, i) => i === 0 || s === ((seqs[i - 1] + 1) & 0xffff));
result.opus = { accepted, packets: seqs.length, consecutive, frames: frames.length, rms };
if (accepted !== 9600 || seqs.length < 10 || !consecutive)
  fail(`Opus RTP out of AudioSender: ${JSON.stringify(result.opus)}`);
if (frames.length < 10 || last.sampleRate !== 16000 || last.numFrames !== 320)
  fail(`decoded frames: ${frames.length}, last ${last?.sampleRate} Hz x ${last?.numFrames}`);
// A sine of amplitude 8000 has an RMS of 5657; Opus at the default bitrate stays well within 20 %.
if (rms < 4500 || rms > 6800) fail(`decoded tone RMS ${rms}, expected about 5657`);
result.opus.ms = ms();

// 3. Three frames of a smooth RGB gradient through VP8 at 1 Mb/s: the mean absolute error per byte of the
// last decoded frame stays small (a lossy codec on a smooth image: a few units out of 255).
const W = 160;
const H = 120;
const rgb = new Uint8Array(W * H * 3);
for (let y = 0; y < H; y++)
  for (let x = 0; x < W; x++) rgb.set([(x * 255) / W, (y * 255) / H, 128], (y * W + x) * 3);
const encoder = new Vp8Encoder({ width: W, height: H, fps: 30, bitrate: 1_000_000 });
const decoder = new Vp8Decoder();
let decoded = null;
let encodedBytes = 0;
for (let i = 0; i < 3; i++) {
  const frame = encoder.encode({ data: rgb, width: W, height: H, format: 'RGB' }, i === 0);
  if (frame === null) continue;
  encodedBytes += frame.data.length;
  if (decoder.decode(frame.data) !== null) decoded = decoder.image({ format: 'RGB' });
}
if (decoded === null) fail('VP8: no frame decoded');
let err = 0;
for (let i = 0; i < rgb.length; i++) err += Math.abs(decoded.data[i] - rgb[i]);
const mae = Math.round((err / rgb.length) * 10) / 10;
result.vp8 = { width: decoded.width, height: decoded.height, encodedBytes, mae, ms: ms() };
if (decoded.width !== W || decoded.height !== H || decoded.data.length !== rgb.length || mae > 8)
  fail(`VP8 round trip: ${JSON.stringify(result.vp8)}`);
encoder.close();
decoder.close();

// 4. + 5. The signalling server and one offer from a node-datachannel peer, loopback only.
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let serverConnected = false;
const server = await startSmallWebRTCServer({
  host: '127.0.0.1',
  port: 0,
  logger: quiet,
  connectionOptions: { bindAddress: '127.0.0.1' },
  onNewConnection: (connection) => {
    connection.on('connected', () => {
      serverConnected = true;
    });
    void connection.connect();
  },
});
result.server = { port: server.port, ms: ms() };

const pc = new nodeDataChannel.PeerConnection('smoke-client', { iceServers: [], bindAddress: '127.0.0.1' });
let peerState = 'new';
pc.onStateChange((s) => {
  peerState = s;
});
const audio = new nodeDataChannel.Audio('0', 'SendRecv');
audio.addOpusCodec(111, 'minptime=10;useinbandfec=1');
audio.addSSRC(4321, 'smoke', 'smoke-stream', 'mic');
const track = pc.addTrack(audio);
const dc = pc.createDataChannel('chat');
let channelOpen = false;
dc.onOpen(() => {
  channelOpen = true;
});
pc.setLocalDescription();
async function until(cond, what) {
  while (!cond()) {
    if (peerState === 'failed' || peerState === 'closed') fail(`${what}: peer connection ${peerState}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
await until(() => pc.gatheringState() === 'complete', 'gathering the offer');
// Like the Pipecat web client: the offer goes without candidates, the server's answer carries its own.
const offerSdp = pc
  .localDescription()
  .sdp.split('\r\n')
  .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
  .join('\r\n');
const res = await fetch(`${server.url}/api/offer`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ sdp: offerSdp, type: 'offer' }),
});
if (res.status !== 200) fail(`POST /api/offer: HTTP ${res.status} ${await res.text()}`);
const answer = await res.json();
if (answer.type !== 'answer' || typeof answer.pc_id !== 'string') fail(`answer: ${JSON.stringify(answer)}`);
pc.setRemoteDescription(answer.sdp, 'answer');
await until(() => peerState === 'connected' && channelOpen && serverConnected, 'connecting');
result.offer = { pcId: answer.pc_id, peerState, channelOpen, serverConnected, ms: ms() };

dc.close();
track.close();
pc.close();
await server.close();
nodeDataChannel.cleanup();
console.log(JSON.stringify({ ...result, ok: true, ms: ms() }));
process.exit(0);
