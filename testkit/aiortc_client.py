#!/usr/bin/python3
"""A Pipecat-style aiortc offering client for interop tests and the setup bench.

Run with the Debian interpreter (/usr/bin/python3, python3-aiortc). It:
  * creates an audio transceiver (sendrecv) with a 440 Hz tone track (aiortc encodes it as Opus),
    optionally a camera video transceiver (sendrecv, no track),
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
import fractions
import json
import math
import sys
import time
import urllib.error
import urllib.request

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from av import AudioFrame

# aioice skips loopback addresses; tests run on 127.0.0.1 only (docs/testing.md, "Loopback peers").
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

SAMPLE_RATE = 48000
PTIME = 0.020


def now_ms() -> float:
    return time.time() * 1000.0


def emit(event: str, **fields) -> None:
    fields["event"] = event
    fields.setdefault("t", now_ms())
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class ToneTrack(AudioStreamTrack):
    """A 440 Hz sine at 48 kHz mono in 20 ms frames, paced in real time."""

    def __init__(self) -> None:
        super().__init__()
        self._samples = int(SAMPLE_RATE * PTIME)
        self._pts = 0
        self._start = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            wait = self._start + self._pts / SAMPLE_RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        frame = AudioFrame(format="s16", layout="mono", samples=self._samples)
        data = bytearray()
        for i in range(self._samples):
            v = int(8000 * math.sin(2 * math.pi * 440 * (self._pts + i) / SAMPLE_RATE))
            data += v.to_bytes(2, "little", signed=True)
        frame.planes[0].update(bytes(data))
        frame.pts = self._pts
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._pts += self._samples
        return frame


def post_json(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
    except urllib.error.URLError as err:
        return 0, {"detail": str(err.reason)}


async def run(args: argparse.Namespace) -> int:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    done = asyncio.Event()
    audio_frames = 0
    tasks = []

    pc.addTransceiver(ToneTrack(), direction="sendrecv")
    if args.video:
        pc.addTransceiver("video", direction="sendrecv")
    channel = pc.createDataChannel("chat", ordered=True)

    async def keepalive() -> None:
        while channel.readyState == "open":
            channel.send(f"ping: {int(now_ms())}")
            await asyncio.sleep(1.0)

    @channel.on("open")
    def on_open() -> None:
        emit("dc-open")
        channel.send(json.dumps({"type": "hello", "from": "aiortc"}))
        tasks.append(asyncio.ensure_future(keepalive()))

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

    offer = await pc.createOffer()
    await pc.setLocalDescription(offer)  # aiortc gathers all candidates here
    body = {"sdp": pc.localDescription.sdp, "type": "offer", "pc_id": None, "restart_pc": False}
    if args.request_data:
        body["requestData"] = json.loads(args.request_data)
    emit("offer-sent")
    status, answer = await asyncio.get_running_loop().run_in_executor(
        None, post_json, args.url.rstrip("/") + args.path, body
    )
    if status != 200:
        emit("offer-failed", status=status, body=answer)
        await pc.close()
        return 2
    emit("answer", pc_id=answer.get("pc_id"))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))

    try:
        await asyncio.wait_for(done.wait(), timeout=args.duration)
    except asyncio.TimeoutError:
        emit("timeout")
    emit("audio-frames", count=audio_frames)
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
    parser.add_argument("--request-data", default=None, help="JSON sent as requestData")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
