"""Complete files built off the heap: a temporary file that spills to disk.

A complete-file response (``stream: false``) must know its whole length before
its first byte, so it is built first and sent after. Held in memory, its size
would be whatever the client asked for (hours of WAV are gigabytes); here it
stays in memory only up to ``SPOOL_MEMORY_BYTES`` and moves to a file in
``TMPDIR`` beyond, which is deleted when the response is sent or abandoned.
"""

from __future__ import annotations

import os
import tempfile
from typing import IO

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

SPOOL_MEMORY_BYTES = 4 * 1024 * 1024
"""A complete file's bytes kept in memory before it moves to disk."""
_READ_BYTES = 256 * 1024


def spooled_file() -> IO[bytes]:
    """A new temporary file for one response's audio."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)


class SpooledFileResponse(Response):
    """Sends a finished temporary file with its exact ``Content-Length``, then closes
    (and so deletes) it, however the sending ends."""

    def __init__(
        self, file: IO[bytes], *, media_type: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(media_type=media_type, headers=headers)
        self.file = file
        self.size = file.seek(0, os.SEEK_END)
        file.seek(0)
        self.headers["content-length"] = str(self.size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            start = {"status": self.status_code, "headers": self.raw_headers}
            await send({"type": "http.response.start", **start})
            if scope.get("method") == "HEAD":
                await send({"type": "http.response.body", "body": b""})
                return
            while True:
                data = await anyio.to_thread.run_sync(self.file.read, _READ_BYTES)
                more = len(data) == _READ_BYTES
                await send({"type": "http.response.body", "body": data, "more_body": more})
                if not more:
                    return
        finally:
            self.file.close()
