"""How the benchmarks hand out their figures: printed, and appended to a markdown file."""

from __future__ import annotations

from pathlib import Path


def publish(lines: list[str], markdown: Path | None) -> None:
    """Print ``lines``; with ``markdown``, append them to that file as well."""
    text = "\n".join(lines)
    print(text)
    if markdown is not None:
        with markdown.open("a") as out:
            out.write(text + "\n\n")
