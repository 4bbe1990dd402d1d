#!/usr/bin/python3
"""A Pipecat-style aiortc offering client for interop tests and the setup bench.

Run with the Debian interpreter (/usr/bin/python3, python3-aiortc). It:
  * creates an audio transceiver (sendrecv) with a 440 Hz tone track (aiortc encodes it as Opus),
    optionally a camera video transceiver (sendrecv; with --camera WxH it sends a 30 fps picture of four flat
    colour quadrants, the colours of testkit/y4m.ts QUADRANT_COLOURS, which aiortc encodes as VP8),
  * reports the video it receives: "video-frame" every 10th frame with its size and the colours at the
    quadrant centres,
  * creates the `chat` data channel (ordered), sends `ping: <ms>` keepalives every second and an app message
    `{"type": "hello", "from": "aiortc"}` when it opens,
  * POSTs the offer to <url>/api/offer (or the given offer path), applies the answer,
  * reports what happens as JSON lines on stdout (one object per line, key "event"),
  * echoes every app message it receives back as {"type": "echo", "data": <message>},
  * exits when it receives the app message {"type": "close"} or after --duration seconds.

Wall-clock times are epoch milliseconds (time.time() * 1000) so another process can compare them.
"""

import argparse
import asyncio
import json
import math
import sys

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack

from aiortc_peer import PacedAudioTrack, emit, keepalive, now_ms, offer_and_answer

SAMPLE_RATE = 48000


class ToneTrack(PacedAudioTrack):
    """A 440 Hz sine at 48 kHz mono in 20 ms frames, paced in real time."""

    def __init__(self) -> None:
        super().__init__(SAMPLE_RATE, "mono")

    def pcm_frame(self, pts: int) -> bytes:
        data = bytearray()
        for i in range(self.samples):
            v = int(8000 * math.sin(2 * math.pi * 440 * (pts + i) / SAMPLE_RATE))
            data += v.to_bytes(2, "little", signed=True)
        return bytes(data)


# testkit/y4m.ts QUADRANT_COLOURS: top-left, top-right, bottom-left, bottom-right.
QUADRANT_COLOURS = [(200, 40, 40), (40, 190, 60), (50, 60, 200), (210, 210, 60)]


class QuadrantsTrack(VideoStreamTrack):
    """A still picture of four flat colour quadrants at 30 fps (aiortc's VideoStreamTrack pacing)."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        import numpy
        from av import VideoFrame

        rgb = numpy.zeros((height, width, 3), dtype=numpy.uint8)
        h2, w2 = height // 2, width // 2
        rgb[:h2, :w2] = QUADRANT_COLOURS[0]
        rgb[:h2, w2:] = QUADRANT_COLOURS[1]
        rgb[h2:, :w2] = QUADRANT_COLOURS[2]
        rgb[h2:, w2:] = QUADRANT_COLOURS[3]
        self._picture = VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        self.sent = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = self._picture
        frame.pts = pts
        frame.time_base = time_base
        self.sent += 1
        return frame


def quadrant_colours(frame) -> list:
    """RGB at the four quadrant centres of a received frame."""
    rgb = frame.to_ndarray(format="rgb24")
    h, w = rgb.shape[0], rgb.shape[1]
    return [
        [int(v) for v in rgb[y][x]]
        for (x, y) in ((w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4))
    ]


async def run(args: argparse.Namespace) -> int:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    done = asyncio.Event()
    audio_frames = 0
    video_frames = 0
    tasks = []

    pc.addTransceiver(ToneTrack(), direction="sendrecv")
    camera = None
    if args.camera:
        width, height = (int(v) for v in args.camera.split("x"))
        camera = QuadrantsTrack(width, height)
        pc.addTransceiver(camera, direction="sendrecv")
    elif args.video:
        pc.addTransceiver("video", direction="sendrecv")
    channel = pc.createDataChannel("chat", ordered=True)

    @channel.on("open")
    def on_open() -> None:
        emit("dc-open")
        channel.send(json.dumps({"type": "hello", "from": "aiortc"}))
        tasks.append(asyncio.ensure_future(keepalive(channel)))

    @channel.on("message")
    def on_message(message) -> None:
        try:
            data = json.loads(message)
        except (TypeError, ValueError):
            emit("message-raw", data=str(message)[:200])
            return
        emit("message", data=data)
        if isinstance(data, dict) and data.get("type") == "close":
            done.set()
        elif isinstance(data, dict) and data.get("type") != "signalling":
            channel.send(json.dumps({"type": "echo", "data": data}))

    @pc.on("connectionstatechange")
    def on_state() -> None:
        emit("state", state=pc.connectionState)
        if pc.connectionState == "connected":
            emit("connected")
        if pc.connectionState in ("failed", "closed"):
            done.set()

    @pc.on("track")
    def on_track(track) -> None:
        emit("track", kind=track.kind)
        if track.kind == "video":

            async def read_video() -> None:
                nonlocal video_frames
                while True:
                    try:
                        frame = await track.recv()
                    except MediaStreamError:
                        return
                    video_frames += 1
                    if video_frames % 10 == 1:
                        emit(
                            "video-frame",
                            count=video_frames,
                            width=frame.width,
                            height=frame.height,
                            colours=quadrant_colours(frame),
                        )

            tasks.append(asyncio.ensure_future(read_video()))
            return
        if track.kind != "audio":
            return

        async def read() -> None:
            nonlocal audio_frames
            while True:
                try:
                    await track.recv()
                except MediaStreamError:
                    return
                audio_frames += 1
                if audio_frames == 1:
                    emit("first-audio-frame")
                if audio_frames % 25 == 0:
                    emit("audio-frames", count=audio_frames)

        tasks.append(asyncio.ensure_future(read()))

    extra = {"requestData": json.loads(args.request_data)} if args.request_data else None
    if not await offer_and_answer(pc, args.url.rstrip("/") + args.path, extra):
        return 2

    try:
        await asyncio.wait_for(done.wait(), timeout=args.duration)
    except asyncio.TimeoutError:
        emit("timeout")
    emit("audio-frames", count=audio_frames)
    emit("video-frames", count=video_frames, sent=camera.sent if camera else 0)
    for task in tasks:
        task.cancel()
    await pc.close()
    emit("closed")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:7860")
    parser.add_argument("--path", default="/api/offer", help="offer path (default /api/offer)")
    parser.add_argument("--duration", type=float, default=30.0, help="max seconds before closing")
    parser.add_argument("--video", action="store_true", help="also add a camera video transceiver")
    parser.add_argument("--camera", default=None, help="send a WxH quadrant picture on the camera transceiver")
    parser.add_argument("--request-data", default=None, help="JSON sent as requestData")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
