#!/usr/bin/python3
"""The client of `npm run bench:video-sbs`: an aiortc peer that sends a 30 fps camera and times what comes back.

Run with the Debian interpreter (/usr/bin/python3, python3-aiortc). The camera is a WxH picture of four flat
colour quadrants with the frame number drawn in: 16 bits as 16 blocks of 24x24 pixels (smaller below 384 pixels wide) on the top row (white =
1), and the same 16 bits inverted on the row below (a check). Each received frame's number is read back
(the servers invert the picture, so the reading is inverted too) and its camera-to-screen lag is the time
from the moment aiortc took the frame for encoding to the moment the decoded echo came out of aiortc's
decoder, both on this process's monotonic clock. After --duration seconds it prints one JSON line:
frames sent, frames received in the window after --warmup seconds, their numbers' span, the lags (ms), the
video bitrate received over the window (RTP payload, kbit/s) and the median PSNR of every 10th frame of the
window against the inverted source picture (dB; the picture is flat colours, so this checks that neither server
sends a degraded picture, it does not rank encoders).
"""

import argparse
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testkit"))

import numpy  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection  # noqa: E402
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack  # noqa: E402
from av import VideoFrame  # noqa: E402

from aiortc_client import QUADRANT_COLOURS, ToneTrack  # noqa: E402
from aiortc_peer import offer_and_answer  # noqa: E402

BITS = 16


def block_size(width: int) -> int:
    """Side of a stamp block: 24 pixels, less when 16 blocks would not fit the width."""
    return min(24, width // BITS)


class StampedCamera(VideoStreamTrack):
    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        rgb = numpy.zeros((height, width, 3), dtype=numpy.uint8)
        h2, w2 = height // 2, width // 2
        rgb[:h2, :w2] = QUADRANT_COLOURS[0]
        rgb[:h2, w2:] = QUADRANT_COLOURS[1]
        rgb[h2:, :w2] = QUADRANT_COLOURS[2]
        rgb[h2:, w2:] = QUADRANT_COLOURS[3]
        self.base = rgb
        self.sent_at: dict[int, float] = {}
        self.count = 0

    def picture(self, n: int) -> numpy.ndarray:
        """The RGB picture of frame number n."""
        rgb = self.base.copy()
        BLOCK = block_size(rgb.shape[1])
        for b in range(BITS):
            bit = (n >> b) & 1
            x = b * BLOCK
            rgb[0:BLOCK, x : x + BLOCK] = 255 if bit else 0
            rgb[BLOCK : 2 * BLOCK, x : x + BLOCK] = 0 if bit else 255
        return rgb

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        n = self.count & 0xFFFF
        frame = VideoFrame.from_ndarray(self.picture(n), format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        self.sent_at[n] = time.monotonic()
        self.count += 1
        return frame


def psnr_inverted(frame, source: numpy.ndarray) -> float:
    """PSNR (dB) of a received frame against the inverted source picture, over R, G and B."""
    got = frame.to_ndarray(format="rgb24").astype(numpy.int16)
    if got.shape != source.shape:
        return 0.0
    mse = float(numpy.mean((got - (255 - source.astype(numpy.int16))) ** 2))
    return 99.0 if mse == 0 else 10 * numpy.log10(255 * 255 / mse)


def count_payload_bytes(receiver) -> list[int]:
    """Counts the RTP payload bytes an aiortc receiver gets (aiortc's getStats has no bytesReceived)."""
    total = [0]
    handle = receiver._handle_rtp_packet

    async def counting(packet, arrival_time_ms):
        total[0] += len(packet.payload)
        await handle(packet, arrival_time_ms)

    receiver._handle_rtp_packet = counting
    return total


def read_stamp(frame, inverted: bool) -> int | None:
    gray = frame.to_ndarray(format="gray")
    BLOCK = block_size(gray.shape[1])
    n = 0
    for b in range(BITS):
        x = b * BLOCK + BLOCK // 2
        top = int(gray[BLOCK // 2, x]) > 128
        bottom = int(gray[BLOCK + BLOCK // 2, x]) > 128
        if top == bottom:
            return None  # the check row disagrees: a damaged or scaled picture
        bit = top != inverted
        n |= int(bit) << b
    return n


async def run(args: argparse.Namespace) -> int:
    width, height = (int(v) for v in args.camera.split("x"))
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    camera = StampedCamera(width, height)
    if args.no_audio:
        pc.addTransceiver("audio", direction="sendrecv")  # offered (as the web client does), nothing sent
    else:
        pc.addTransceiver(ToneTrack(), direction="sendrecv")
    video_bytes = count_payload_bytes(pc.addTransceiver(camera, direction="sendrecv").receiver)
    channel = pc.createDataChannel("chat", ordered=True)
    received: list[tuple[float, int]] = []
    undecodable = 0
    psnrs: list[float] = []
    start = time.monotonic()

    @channel.on("open")
    def on_open() -> None:
        channel.send(json.dumps({"type": "hello", "from": "bench"}))

    @pc.on("track")
    def on_track(track) -> None:
        async def drain() -> None:
            nonlocal undecodable
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                if track.kind != "video":
                    continue
                t = time.monotonic()
                n = read_stamp(frame, inverted=True)
                if n is None:
                    undecodable += 1
                else:
                    received.append((t, n))
                    # Every 10th frame of the window: the picture's PSNR against the inverted source.
                    if n % 10 == 0 and t - start >= args.warmup:
                        psnrs.append(psnr_inverted(frame, camera.picture(n)))

        asyncio.ensure_future(drain())

    if not await offer_and_answer(pc, args.url.rstrip("/") + "/api/offer"):
        return 2
    answered = time.monotonic()
    # Bytes are counted over the same window as the frames: from the warmup's end to the end of the run.
    await asyncio.sleep(max(0.0, start + args.warmup - answered))
    bytes0, t0 = video_bytes[0], time.monotonic()
    await asyncio.sleep(max(0.0, answered + args.duration - time.monotonic()))
    bytes1, t1 = video_bytes[0], time.monotonic()
    window = [(t, n) for (t, n) in received if t - start >= args.warmup]
    lags = [round((t - camera.sent_at[n]) * 1000, 1) for (t, n) in window if n in camera.sent_at]
    span = (window[-1][0] - window[0][0]) if len(window) > 1 else 0
    print(
        json.dumps(
            {
                "event": "result",
                "sent": camera.count,
                "received": len(received),
                "windowFrames": len(window),
                "windowSeconds": span,
                "undecodable": undecodable,
                "size": [width, height],
                "lagsMs": lags,
                "videoKbps": round((bytes1 - bytes0) * 8 / 1000 / max(t1 - t0, 1e-3), 1),
                "psnrDb": round(float(numpy.median(psnrs)), 2) if psnrs else None,
            }
        ),
        flush=True,
    )
    await pc.close()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--camera", default="640x480")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--no-audio", action="store_true", help="send no microphone (the tone is echoed otherwise)")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
