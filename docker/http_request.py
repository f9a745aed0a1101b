"""One HTTP request to the server, body to stdout: the image tests' client.

Standard library only, so the same file runs on the host and inside the
image (``podman exec -i ID python - ... < docker/http_request.py``), where the
container may have no network but its loopback.

    python docker/http_request.py GET http://127.0.0.1:8880/health
    python docker/http_request.py POST URL '{"input": "Hi"}' > speech.mp3

Exits 1 with the status and body on stderr for any status of 400 or more.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: http_request.py METHOD URL [JSON_BODY]", file=sys.stderr)
        return 2
    method, url = argv[0], argv[1]
    body = argv[2].encode() if len(argv) == 3 else None
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            sys.stdout.buffer.write(response.read())
    except urllib.error.HTTPError as e:
        print(f"{method} {url}: HTTP {e.code}: {e.read()[:500]!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
