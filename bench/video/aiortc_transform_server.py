#!/usr/bin/python3
"""The aiortc side of `npm run bench:video-sbs`: a video-transform server as Pipecat's Python transport runs it.

Run with the Debian interpreter (/usr/bin/python3, python3-aiortc); a bench script, not a dependency. It
answers POST /api/offer ({sdp, type} -> {sdp, type, pc_id}) on 127.0.0.1:<port> with an aiortc
RTCPeerConnection that sends the camera back inverted (each frame decoded by aiortc, converted to packed RGB
as Pipecat's SmallWebRTC input does, 255 - value, converted back and re-encoded as VP8 by aiortc) and echoes
the microphone (decoded and re-encoded as Opus). One line `{"event": "listening", "port": N}` on stdout
when ready; runs until killed.
"""

import argparse
import asyncio
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testkit"))

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from av import VideoFrame  # noqa: E402

import aiortc_peer  # noqa: E402,F401  (restricts aioice to 127.0.0.1)

PEERS = set()


class InvertTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source

    async def recv(self):
        frame = await self.source.recv()
        rgb = frame.to_ndarray(format="rgb24")
        out = VideoFrame.from_ndarray(255 - rgb, format="rgb24")
        out.pts = frame.pts
        out.time_base = frame.time_base
        return out


async def answer(body: dict) -> dict:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    PEERS.add(pc)

    @pc.on("track")
    def on_track(track) -> None:
        pc.addTrack(InvertTrack(track) if track.kind == "video" else track)

    @pc.on("connectionstatechange")
    async def on_state() -> None:

        if pc.connectionState in ("failed", "closed"):
            PEERS.discard(pc)
            await pc.close()

    # aiortc 1.4.0 (Debian) cannot parse its own abs-send-time extension when it is the receiver (struct.error
    # in RtpPacket.parse closes the DTLS transport): not negotiated between the two aiortc peers.
    sdp = "\r\n".join(l for l in body["sdp"].splitlines() if "abs-send-time" not in l) + "\r\n"
    await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=body["type"]))
    await pc.setLocalDescription(await pc.createAnswer())
    return {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type, "pc_id": str(uuid.uuid4())}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = json.loads(await reader.readexactly(length)) if length else {}
        if lines[0].startswith("POST /api/offer"):
            status, payload = "200 OK", await answer(body)
        else:
            status, payload = "404 Not Found", {"detail": "not found"}
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = await asyncio.start_server(handle, "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"event": "listening", "port": port}), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
