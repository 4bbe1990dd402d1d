#!/usr/bin/python3
"""The contender: an echo bot on aiortc, the WebRTC stack Pipecat's Python SmallWebRTCTransport uses.

Run with the Debian interpreter (/usr/bin/python3, python3-aiortc). It speaks the same signalling as our
server (POST /api/offer -> {sdp, type, pc_id}; PATCH /api/offer with trickled candidates), so the same
bench/scale/client.ts clients can call it, and echoes the microphone the way Pipecat's transport carries audio:
each decoded 48 kHz frame is resampled to 16 kHz mono (Pipecat's audio_in_sample_rate), then back to 48 kHz
for the output track, which aiortc Opus-encodes. No VAD (ours runs Silero in the echo bot), so the
comparison favours aiortc on CPU.

Prints one JSON line {"port": N} once listening; runs until killed.
"""

import argparse
import asyncio
import json
import sys
import uuid

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import candidate_from_sdp
from av.audio.resampler import AudioResampler

PCS: dict[str, RTCPeerConnection] = {}


class EchoTrack(MediaStreamTrack):
    """The peer's microphone back: 48 kHz -> 16 kHz (the pipeline's rate) -> 48 kHz, frame by frame."""

    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.down = AudioResampler(format="s16", layout="mono", rate=16000)
        self.up = AudioResampler(format="s16", layout="mono", rate=48000)
        self.pending = []

    async def recv(self):
        while not self.pending:
            frame = await self.source.recv()
            for f16 in self.down.resample(frame):
                self.pending.extend(self.up.resample(f16))
        return self.pending.pop(0)


async def on_offer(body: dict) -> dict:
    pc = RTCPeerConnection()
    pc_id = str(uuid.uuid4())
    PCS[pc_id] = pc

    @pc.on("track")
    def on_track(track):
        # Fired inside setRemoteDescription: the echo takes the offer's audio transceiver (sendrecv).
        if track.kind == "audio":
            pc.addTrack(EchoTrack(track))

    @pc.on("connectionstatechange")
    async def on_state():
        if pc.connectionState in ("failed", "closed"):
            PCS.pop(pc_id, None)
            await pc.close()

    await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type=body["type"]))
    await pc.setLocalDescription(await pc.createAnswer())
    return {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type, "pc_id": pc_id}


async def on_patch(body: dict) -> dict:
    pc = PCS.get(body.get("pc_id", ""))
    if pc is None:
        raise KeyError("unknown pc_id")
    for c in body.get("candidates", []):
        line = c.get("candidate", "")
        if not line:
            continue
        cand = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
        cand.sdpMid = c.get("sdp_mid")
        cand.sdpMLineIndex = c.get("sdp_mline_index")
        await pc.addIceCandidate(cand)
    return {"status": "success"}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = json.loads(await reader.readexactly(length)) if length else {}
        status, out = 404, {"error": "not found"}
        if path.startswith("/api/offer") and method == "POST":
            status, out = 200, await on_offer(body)
        elif path.startswith("/api/offer") and method == "PATCH":
            status, out = 200, await on_patch(body)
    except Exception as err:  # noqa: BLE001 - a bench server answers 500 and goes on
        status, out = 500, {"error": str(err)}
    data = json.dumps(out).encode()
    writer.write(
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        f"Connection: close\r\n\r\n".encode()
        + data
    )
    await writer.drain()
    writer.close()


async def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    server = await asyncio.start_server(handle, args.host, args.port)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    async with server:
        await server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
