"""Shared parts of the aiortc test clients (aiortc_client.py, aiortc_echo_client.py).

Run with the Debian interpreter (/usr/bin/python3, python3-aiortc). Importing this module restricts aioice to
127.0.0.1: aioice skips loopback addresses, and tests run on 127.0.0.1 only (docs/testing.md, "Loopback peers").
"""

import asyncio
import fractions
import json
import sys
import time
import urllib.error
import urllib.request

import aioice.ice
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from av import AudioFrame

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

PTIME = 0.020


def now_ms() -> float:
    """Wall-clock epoch milliseconds, comparable across processes."""
    return time.time() * 1000.0


def emit(event: str, **fields) -> None:
    """Reports one event as a JSON line on stdout (key "event", time "t" in epoch ms)."""
    fields["event"] = event
    fields.setdefault("t", now_ms())
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


class PacedAudioTrack(AudioStreamTrack):
    """16-bit audio in 20 ms frames paced in real time; a subclass gives each frame's bytes (pcm_frame)."""

    def __init__(self, rate: int, layout: str) -> None:
        super().__init__()
        self.rate = rate
        self.layout = layout
        self.samples = int(rate * PTIME)
        self._pts = 0
        self._clock = None

    def pcm_frame(self, pts: int) -> bytes:
        raise NotImplementedError

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._clock is None:
            self._clock = time.time()
        else:
            wait = self._clock + self._pts / self.rate - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        frame = AudioFrame(format="s16", layout=self.layout, samples=self.samples)
        frame.planes[0].update(self.pcm_frame(self._pts))
        frame.pts = self._pts
        frame.sample_rate = self.rate
        frame.time_base = fractions.Fraction(1, self.rate)
        self._pts += self.samples
        return frame


def post_json(url: str, body: dict) -> tuple[int, dict]:
    """POSTs JSON; returns (status, parsed body), status 0 when the server cannot be reached."""
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


async def keepalive(channel) -> None:
    """Sends `ping: <ms>` every second while the channel is open, as the Pipecat web client does."""
    while channel.readyState == "open":
        channel.send(f"ping: {int(now_ms())}")
        await asyncio.sleep(1.0)


async def offer_and_answer(pc: RTCPeerConnection, url: str, extra: dict | None = None) -> bool:
    """Offers (all candidates gathered), POSTs it to `url` (plus `extra` fields) and applies the answer.

    Emits "answer" (or "offer-failed" and closes the peer); returns whether the answer was applied.
    """
    offer = await pc.createOffer()
    await pc.setLocalDescription(offer)  # aiortc gathers all candidates here
    body = {"sdp": pc.localDescription.sdp, "type": "offer", "pc_id": None, "restart_pc": False}
    body.update(extra or {})
    emit("offer-sent")
    status, answer = await asyncio.get_running_loop().run_in_executor(None, post_json, url, body)
    if status != 200:
        emit("offer-failed", status=status, body=answer)
        await pc.close()
        return False
    emit("answer", pc_id=answer.get("pc_id"))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
    return True
