"""Container health check: exit 0 when the server in this container reports ``ok``.

Standard library only (the image has no curl); HEALTHCHECK runs it inside the
container, so it asks the loopback address on ``KOKORO_PORT``.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('KOKORO_PORT', '8880')}/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            status = json.load(response).get("status")
    except (OSError, ValueError) as e:
        print(f"unhealthy: {url}: {e}", file=sys.stderr)
        return 1
    if status != "ok":
        print(f"unhealthy: {url} says status={status!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
