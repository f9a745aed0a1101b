"""Fetch a voice file from a path or an http(s) URL, with a size limit."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

_BLOCK = 1 << 16


class DownloadError(RuntimeError):
    """The voice file could not be fetched."""


def _read_limited(stream: object, limit: int, source: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    read = stream.read  # type: ignore[attr-defined]
    while block := read(_BLOCK):
        size += len(block)
        if size > limit:
            raise DownloadError(f"{source} is larger than the limit of {limit} bytes")
        chunks.append(block)
    return b"".join(chunks)


def fetch_voice_file(source: str, limit: int, timeout: float = 30.0) -> tuple[bytes, str]:
    """Return the bytes and file name of ``source`` (a local path or an http(s) URL)."""
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        name = PurePosixPath(urllib.parse.urlsplit(source).path).name or "voice.bin"
        try:
            with urllib.request.urlopen(source, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                if length is not None and length.isdigit() and int(length) > limit:
                    raise DownloadError(f"{source} is larger than the limit of {limit} bytes")
                return _read_limited(response, limit, source), name
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise DownloadError(f"cannot download {source}: {e}") from e
    if scheme and len(scheme) > 1:
        raise DownloadError(f"unsupported URL scheme {scheme!r}; use a path, http or https")
    path = Path(source).expanduser()
    try:
        with path.open("rb") as handle:
            return _read_limited(handle, limit, str(path)), path.name
    except OSError as e:
        raise DownloadError(f"cannot read {path}: {e}") from e
