"""Ask the Wyoming server for its voices and one sentence: the image tests' Wyoming client.

Standard library only, like ``http_request.py``, so it runs inside the image
(``podman exec -i ID python - ... < docker/wyoming_request.py``), where the
container may have no network but its loopback.

    python docker/wyoming_request.py 127.0.0.1 10200

Prints what it got (the number of voices, the seconds of audio) and exits 1
when the server does not describe a streaming TTS program with voices, or
does not answer ``synthesize`` with 24 kHz 16-bit mono audio.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

TEXT = "The Wyoming server speaks from inside the image."
TIMEOUT_S = 120


def send(stream: Any, event_type: str, data: dict[str, Any]) -> None:
    body = json.dumps(data).encode()
    header = {"type": event_type, "data_length": len(body), "payload_length": 0}
    stream.write(json.dumps(header).encode() + b"\n" + body)
    stream.flush()


def receive(stream: Any) -> tuple[str, dict[str, Any], bytes]:
    line = stream.readline()
    if not line:
        raise ConnectionError("the server closed the connection")
    header = json.loads(line)
    data = dict(header.get("data") or {})
    if header.get("data_length"):
        data.update(json.loads(stream.read(header["data_length"])))
    payload = stream.read(header["payload_length"]) if header.get("payload_length") else b""
    return header["type"], data, payload


def check(host: str, port: int) -> str:
    with socket.create_connection((host, port), timeout=TIMEOUT_S) as connection:
        stream = connection.makefile("rwb")
        send(stream, "describe", {})
        event_type, info, _ = receive(stream)
        if event_type != "info":
            raise ValueError(f"describe was answered with {event_type!r}, not 'info'")
        programs = info.get("tts") or []
        if not programs or not programs[0].get("voices"):
            raise ValueError(f"describe lists no TTS voices: {info}")
        if not programs[0].get("supports_synthesize_streaming"):
            raise ValueError("the TTS program does not say it supports streaming synthesis")
        voices = len(programs[0]["voices"])

        send(stream, "synthesize", {"text": TEXT, "voice": {"name": "af_heart"}})
        audio = b""
        while True:
            event_type, data, payload = receive(stream)
            if event_type == "error":
                raise ValueError(f"synthesize failed: {data}")
            if event_type in ("audio-start", "audio-chunk"):
                shape = (data.get("rate"), data.get("width"), data.get("channels"))
                if shape != (24000, 2, 1):
                    raise ValueError(f"{event_type} is {shape}, not 24 kHz 16-bit mono")
                audio += payload
            if event_type == "audio-stop":
                break
    seconds = len(audio) / 48000
    if seconds < 0.5:
        raise ValueError(f"synthesize gave {seconds:.2f} s of audio")
    return f"{voices} voices, {seconds:.2f} s of 24 kHz 16-bit mono audio"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: wyoming_request.py HOST PORT", file=sys.stderr)
        return 2
    try:
        print(check(argv[0], int(argv[1])))
    except (OSError, ValueError) as e:
        print(f"wyoming: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
