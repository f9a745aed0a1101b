#!/usr/bin/env python3
"""Re-derive the 54 official Kokoro-82M v1.0 voice packs from their registry archive,
or check the packs this project ships against it.

The packs (Apache-2.0, by hexgrad) are published inside the source archive of the
PyPI package ``kokoro==0.9.4`` as ``kokoro-0.9.4/kokoro.js/voices/<id>.bin`` (raw
little-endian float32, 510 x 1 x 256), next to ``kokoro.js/src/voices.js``, which
gives each voice's display name, language, gender and quality grades. No wheel
installs them, so this project ships them in ``api/voices/official/``; this script
is how anyone can check that those files are exactly the published ones::

    python scripts/official_voices.py verify             # fetch the archive with pip, compare
    python scripts/official_voices.py verify --archive kokoro-0.9.4.tar.gz
    python scripts/official_voices.py derive --archive kokoro-0.9.4.tar.gz   # rewrite the files

Without ``--archive`` the archive is fetched with ``pip download`` (through the
package index pip is configured for). Only the standard library is used; nothing
here runs when the server is installed or started.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "kokoro==0.9.4"
ARCHIVE_NAME = "kokoro-0.9.4.tar.gz"
ARCHIVE_SHA256 = "fbf633262797f8cf46fdac3315cf9cade67dc8b762c0feccf334892772fb9ac4"
ROOT = "kokoro-0.9.4"
VOICES_PREFIX = f"{ROOT}/kokoro.js/voices/"
METADATA_MEMBER = f"{ROOT}/kokoro.js/src/voices.js"
LICENSE_MEMBER = f"{ROOT}/LICENSE"
PACK_BYTES = 510 * 1 * 256 * 4
MANIFEST = "voices.json"

SHIPPED = Path(__file__).resolve().parents[1] / "api" / "voices" / "official"

# voices.js labels the French voice as Spanish; its name, its pack and every other
# source say French.
LANGUAGE_FIXES = {"ff_siwis": "fr-fr"}
_FIELDS = {
    "name": "name",
    "language": "language",
    "gender": "gender",
    "targetQuality": "target_quality",
    "overallGrade": "overall_grade",
}


class ProvenanceError(RuntimeError):
    """The archive or the shipped files are not what they should be."""


@dataclass(frozen=True)
class OfficialSet:
    """What the archive publishes: each pack's bytes and metadata, and the licence."""

    packs: dict[str, bytes]
    metadata: dict[str, dict[str, str]]
    license_text: bytes


def parse_voices_js(source: str) -> dict[str, dict[str, str]]:
    """The voice table of ``voices.js``: ``id -> {name, language, gender, ...}``.

    Entries commented out there (the voices kokoro.js leaves out of its menu) count
    too: their packs are published all the same.
    """
    table = source.split("Object.freeze({", 1)[-1].split("});", 1)[0]
    lines = [re.sub(r"^\s*//\s?", "", line) for line in table.splitlines()]
    voices: dict[str, dict[str, str]] = {}
    for match in re.finditer(r"(\w+):\s*\{(.*?)\}", "\n".join(lines), re.DOTALL):
        fields = dict(re.findall(r'(\w+):\s*"([^"]*)"', match.group(2)))
        voices[match.group(1)] = {ours: fields[theirs] for theirs, ours in _FIELDS.items()}
    for voice, language in LANGUAGE_FIXES.items():
        if voice in voices:
            voices[voice]["language"] = language
    return voices


def read_archive(archive: Path, expected_sha256: str = ARCHIVE_SHA256) -> OfficialSet:
    """The packs, metadata and licence inside the verified source archive."""
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != expected_sha256:
        raise ProvenanceError(f"{archive}: sha256 {digest}, expected {expected_sha256}")
    packs: dict[str, bytes] = {}
    metadata_source = license_text = None
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is None:
                continue
            if member.name.startswith(VOICES_PREFIX) and member.name.endswith(".bin"):
                packs[member.name[len(VOICES_PREFIX) : -len(".bin")]] = handle.read()
            elif member.name == METADATA_MEMBER:
                metadata_source = handle.read().decode("utf-8")
            elif member.name == LICENSE_MEMBER:
                license_text = handle.read()
    if metadata_source is None or license_text is None:
        raise ProvenanceError(f"{archive} lacks {METADATA_MEMBER} or {LICENSE_MEMBER}")
    metadata = parse_voices_js(metadata_source)
    if set(metadata) != set(packs):
        raise ProvenanceError(
            f"voices.js and the packs disagree: {sorted(set(metadata) ^ set(packs))}"
        )
    wrong = sorted(name for name, data in packs.items() if len(data) != PACK_BYTES)
    if wrong:
        raise ProvenanceError(f"packs of the wrong size ({PACK_BYTES} bytes expected): {wrong}")
    return OfficialSet(packs, metadata, license_text)


def manifest(official: OfficialSet) -> dict[str, object]:
    """The shipped ``voices.json``: each voice's file, sha256 and metadata."""
    return {
        "source": f"{ARCHIVE_NAME} (sha256 {ARCHIVE_SHA256}), {VOICES_PREFIX}<id>.bin",
        "license": "Apache-2.0",
        "voices": {
            name: {
                "file": f"{name}.bin",
                "sha256": hashlib.sha256(official.packs[name]).hexdigest(),
                **official.metadata[name],
            }
            for name in sorted(official.packs)
        },
    }


def manifest_bytes(official: OfficialSet) -> bytes:
    return (json.dumps(manifest(official), indent=2, ensure_ascii=False) + "\n").encode()


def derive(official: OfficialSet, target: Path) -> None:
    """Write the packs, the manifest and the licence into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name, data in official.packs.items():
        (target / f"{name}.bin").write_bytes(data)
    (target / MANIFEST).write_bytes(manifest_bytes(official))
    (target / "LICENSE").write_bytes(official.license_text)


def verify(official: OfficialSet, shipped: Path) -> list[str]:
    """Differences between the shipped directory and the archive; empty when identical."""
    problems: list[str] = []
    for name, data in sorted(official.packs.items()):
        path = shipped / f"{name}.bin"
        if not path.is_file():
            problems.append(f"{path.name}: missing")
        elif path.read_bytes() != data:
            problems.append(f"{path.name}: differs from the published pack")
    extra = {path.stem for path in shipped.glob("*.bin")} - set(official.packs)
    problems.extend(f"{name}.bin: not an official pack" for name in sorted(extra))
    shipped_manifest = shipped / MANIFEST
    if not shipped_manifest.is_file() or shipped_manifest.read_bytes() != manifest_bytes(official):
        problems.append(f"{MANIFEST}: differs from the one the archive gives")
    return problems


def fetch_archive(directory: Path) -> Path:
    """Download the source archive with pip, from the index pip is configured for."""
    command = [
        *([sys.executable, "-m", "pip"] if _has_pip() else ["uvx", "pip"]),
        "download",
        "--quiet",
        "--no-deps",
        "--no-binary",
        ":all:",
        PACKAGE,
        "--dest",
        str(directory),
    ]
    subprocess.run(command, check=True)
    return directory / ARCHIVE_NAME


def _has_pip() -> bool:
    return importlib.util.find_spec("pip") is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["verify", "derive"])
    parser.add_argument("--archive", type=Path, help=f"{ARCHIVE_NAME}; fetched with pip if unset")
    parser.add_argument("--shipped", type=Path, default=SHIPPED, help="the shipped directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        archive = args.archive or fetch_archive(Path(scratch))
        official = read_archive(archive)
        if args.action == "derive":
            derive(official, args.shipped)
            print(f"wrote {len(official.packs)} packs, {MANIFEST} and LICENSE to {args.shipped}")
            return 0
        problems = verify(official, args.shipped)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{len(official.packs)} packs in {args.shipped} are identical to {ARCHIVE_NAME}'s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
