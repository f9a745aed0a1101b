"""A real uvicorn server in a thread, for tests that need real sockets."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from api.app import create_app
from api.backends.base import Backend
from api.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerThread:
    """A real uvicorn server in a thread, for behaviour that needs real sockets."""

    def __init__(self, settings: Settings, backend: Backend) -> None:
        port = free_port()
        self.app = create_app(settings, backend=backend)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
