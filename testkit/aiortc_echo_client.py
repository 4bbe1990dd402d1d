#!/usr/bin/python3
"""aiortc as a Pipecat client of the echo bot: speech in from a WAV, the echo recorded to a WAV.

Run with the Debian interpreter (/usr/bin/python3, python3-aiortc). It:
  * offers an audio transceiver (sendrecv) and the `chat` data channel, sends `ping: <ms>` every second,
  * POSTs the offer to <url>/api/offer, applies the answer,
  * does the RTVI handshake: sends client-ready (protocol 2.1.0), waits for bot-ready,
  * then plays the WAV (16-bit PCM, any rate, mono or stereo) in real time, 20 ms frames, silence before and after,
  * records every decoded frame of the bot's audio as 48 kHz mono, placed on the same timeline as the WAV:
    sample 0 of the output file is the instant the WAV's first sample was handed to the encoder, and each
    received frame sits at (arrival of the first received frame - that instant) + (its RTP pts - the first pts),
    so a correlation of the two files gives the echo's round-trip delay,
  * after the WAV plus --tail seconds, writes --out and closes.
Reports JSON lines on stdout (key "event"), like aiortc_client.py (shared parts: aiortc_peer.py).
"""

import argparse
import asyncio
import json
import sys
import time
import wave

from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame
from av.audio.resampler import AudioResampler

from aiortc_peer import PTIME, PacedAudioTrack, emit, keepalive, offer_and_answer

OUT_RATE = 48000


class WavTrack(PacedAudioTrack):
    """Silence until start() is called, then the WAV once, then silence; paced in real time."""

    def __init__(self, path: str) -> None:
        with wave.open(path, "rb") as w:
            if w.getsampwidth() != 2:
                raise ValueError(f"{path}: want 16-bit PCM")
            rate = w.getframerate()
            self.channels = w.getnchannels()
            self.pcm = w.readframes(w.getnframes())
        super().__init__(rate, "mono" if self.channels == 1 else "stereo")
        self.frame_bytes = self.samples * self.channels * 2
        self.pos = None  # byte offset into pcm while playing
        self.started_at = None  # wall time (s) the first WAV sample was returned
        self.finished = asyncio.Event()
        self._want_start = False

    def start(self) -> None:
        self._want_start = True

    def pcm_frame(self, pts: int) -> bytes:
        chunk = bytes(self.frame_bytes)
        if self._want_start and self.pos is None:
            self.pos = 0
            self.started_at = time.time()
            emit("wav-start")
        if self.pos is not None and self.pos < len(self.pcm):
            part = self.pcm[self.pos : self.pos + self.frame_bytes]
            chunk = part + bytes(self.frame_bytes - len(part))
            self.pos += self.frame_bytes
            if self.pos >= len(self.pcm):
                emit("wav-end")
                self.finished.set()
        return chunk


async def run(args: argparse.Namespace) -> int:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    source = WavTrack(args.wav)
    bot_ready = asyncio.Event()
    failed = asyncio.Event()
    tasks = []
    # Recording: 48 kHz mono s16 samples by position on the WAV's timeline (bounded by --max-secs).
    out = bytearray(int(args.max_secs * OUT_RATE) * 2)
    written = {"frames": 0, "max_end": 0, "first_pts": None, "first_at": None, "dropped_early": 0}
    resampler = AudioResampler(format="s16", layout="mono", rate=OUT_RATE)

    pc.addTransceiver(source, direction="sendrecv")
    channel = pc.createDataChannel("chat", ordered=True)

    @channel.on("open")
    def on_open() -> None:
        emit("dc-open")
        ready = {
            "label": "rtvi-ai",
            "type": "client-ready",
            "id": "aiortc-1",
            "data": {"version": "2.1.0", "about": {"library": "aiortc-echo-test"}},
        }
        channel.send(json.dumps(ready))
        tasks.append(asyncio.ensure_future(keepalive(channel)))

    @channel.on("message")
    def on_message(message) -> None:
        try:
            data = json.loads(message)
        except (TypeError, ValueError):
            return
        if not isinstance(data, dict):
            return
        kind = data.get("type")
        if kind == "bot-ready":
            emit("bot-ready", data=data.get("data"))
            bot_ready.set()
        elif kind in ("user-started-speaking", "user-stopped-speaking", "bot-started-speaking", "bot-stopped-speaking"):
            emit("rtvi", type=kind)

    @pc.on("connectionstatechange")
    def on_state() -> None:
        emit("state", state=pc.connectionState)
        if pc.connectionState in ("failed", "closed"):
            failed.set()

    def place(frame: AudioFrame) -> None:
        now = time.time()
        if source.started_at is None:
            return  # the echo of the silence before the WAV: not part of the recording
        for f in resampler.resample(frame):
            pts = f.pts if f.pts is not None else 0
            if written["first_pts"] is None:
                written["first_pts"] = pts
                written["first_at"] = now
                emit("first-echo-frame", offset_ms=(now - source.started_at) * 1000.0)
            # f.pts counts samples at OUT_RATE (the resampler's time base is 1/OUT_RATE).
            start = round((written["first_at"] - source.started_at) * OUT_RATE) + (pts - written["first_pts"])
            pcm = bytes(f.planes[0])[: f.samples * 2]
            begin = start * 2
            end = begin + len(pcm)
            if begin < 0:
                written["dropped_early"] += 1
                continue
            if end > len(out):
                continue
            out[begin:end] = pcm
            written["frames"] += 1
            written["max_end"] = max(written["max_end"], end)

    @pc.on("track")
    def on_track(track) -> None:
        emit("track", kind=track.kind)
        if track.kind != "audio":
            return

        async def read() -> None:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                place(frame)

        tasks.append(asyncio.ensure_future(read()))

    if not await offer_and_answer(pc, args.url.rstrip("/") + "/api/offer"):
        return 2

    code = 0
    try:
        await asyncio.wait_for(bot_ready.wait(), timeout=20)
        source.start()
        await asyncio.wait_for(source.finished.wait(), timeout=len(source.pcm) / source.frame_bytes * PTIME + 20)
        await asyncio.sleep(args.tail)
    except asyncio.TimeoutError:
        emit("timeout", bot_ready=bot_ready.is_set())
        code = 3
    with wave.open(args.out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(OUT_RATE)
        w.writeframes(bytes(out[: written["max_end"]]))
    emit(
        "recorded",
        frames=written["frames"],
        secs=written["max_end"] / 2 / OUT_RATE,
        dropped_early=written["dropped_early"],
    )
    for task in tasks:
        task.cancel()
    await pc.close()
    emit("closed")
    return code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:7860")
    parser.add_argument("--wav", required=True, help="16-bit PCM WAV to send")
    parser.add_argument("--out", required=True, help="where to write the recorded echo (48 kHz mono WAV)")
    parser.add_argument("--tail", type=float, default=2.0, help="seconds to keep recording after the WAV")
    parser.add_argument("--max-secs", type=float, default=60.0, help="recording buffer, seconds")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
