"""``python -m tests.fakeserver DELAY``: the server as ``kokoro-server serve`` runs it
(settings from KOKORO_*, the same uvicorn set-up and signal handling), with the fake
backend taking DELAY seconds per chunk. For tests that signal a real process."""

from __future__ import annotations

import logging
import sys

from api.app import create_app
from api.backends.fake import FakeBackend
from api.cli import run_server
from api.settings import Settings


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    run_server(create_app(settings, backend=FakeBackend(delay=float(sys.argv[1]))), settings)


if __name__ == "__main__":
    main()
