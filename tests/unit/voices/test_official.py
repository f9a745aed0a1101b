"""The official voice packs shipped in the package: complete, exact, verified, mapped."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import shutil
import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from api.voices.official import OFFICIAL_DIR, OfficialVoicesError, official_voices
from api.voices.packs import PACK_SHAPE
from api.voices.store import DEFAULT_OPENAI_VOICES, VoiceStore

REPO = Path(__file__).resolve().parents[3]
SHARED_VOICES = REPO.parent / "shared" / "voices"
needs_shared_voices = pytest.mark.skipif(
    not SHARED_VOICES.is_dir(), reason="../shared/voices is not present"
)
# Kokoro-82M v1.0's official set, by language letter (a American English, b British,
# e Spanish, f French, h Hindi, i Italian, j Japanese, p Brazilian Portuguese, z Mandarin).
VOICES_PER_LANGUAGE = {"a": 20, "b": 8, "e": 3, "f": 1, "h": 4, "i": 2, "j": 5, "p": 3, "z": 8}


def test_all_54_official_voices_ship_with_their_metadata() -> None:
    voices = official_voices()
    assert len(voices) == 54
    assert Counter(name[0] for name in voices) == VOICES_PER_LANGUAGE
    heart = voices["af_heart"]
    assert (heart.name, heart.language, heart.gender) == ("Heart", "en-us", "female")
    assert (heart.target_quality, heart.overall_grade) == ("A", "A")
    assert voices["ff_siwis"].language == "fr-fr"  # voices.js says es; it is French
    assert {voice.gender for voice in voices.values()} == {"female", "male"}


def test_the_licence_and_notice_ship_beside_them() -> None:
    assert "Apache License" in (OFFICIAL_DIR / "LICENSE").read_text()
    notice = " ".join((OFFICIAL_DIR / "NOTICE").read_text().split())
    assert "hexgrad" in notice
    assert "Apache License 2.0" in notice


@needs_shared_voices
def test_the_shipped_packs_are_the_published_ones_byte_for_byte() -> None:
    """../shared/voices holds the official .pt files: the float32 data in each is
    exactly what ships (not re-quantized), and their metadata table agrees."""
    shipped = official_voices()
    published = {path.stem for path in SHARED_VOICES.glob("*.pt")} - {"af_jadzia"}
    assert set(shipped) == published
    for name, voice in shipped.items():
        with zipfile.ZipFile(SHARED_VOICES / f"{name}.pt") as archive:
            member = next(m for m in archive.namelist() if m.endswith("/data/0"))
            assert archive.read(member) == voice.path.read_bytes(), name
    with (SHARED_VOICES / "voices.tsv").open() as table:
        for row in csv.DictReader(table, delimiter="\t"):
            voice = shipped[row["id"]]
            assert voice.name == row["name"]
            assert voice.language == row["language"]
            assert voice.gender == row["gender"].lower()
            assert (voice.target_quality, voice.overall_grade) == (
                row["target_quality"],
                row["overall_grade"],
            )


def test_af_jadzia_is_not_shipped() -> None:
    assert not (OFFICIAL_DIR / "af_jadzia.bin").exists()
    assert "af_jadzia" not in official_voices()


def test_packs_are_memory_mapped_float32() -> None:
    pack = official_voices()["af_heart"].open()
    assert isinstance(pack, np.memmap)
    assert pack.shape == PACK_SHAPE
    assert pack.dtype == np.float32
    assert np.isfinite(pack).all()
    with pytest.raises(ValueError, match="read-only"):
        pack[0, 0, 0] = 1.0


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    target = tmp_path / "official"
    shutil.copytree(OFFICIAL_DIR, target)
    return target


def test_a_damaged_pack_is_refused_naming_it(copied: Path) -> None:
    path = copied / "bf_emma.bin"
    data = bytearray(path.read_bytes())
    data[1000] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(OfficialVoicesError, match=r"bf_emma\.bin is damaged") as error:
        official_voices(copied)
    assert "\n" not in str(error.value)
    assert "uv sync --reinstall-package kokoro-server" in str(error.value)


def test_a_truncated_or_missing_pack_is_refused(copied: Path) -> None:
    (copied / "zm_yunxi.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(OfficialVoicesError, match=r"zm_yunxi\.bin is damaged"):
        official_voices(copied)
    (copied / "zm_yunxi.bin").unlink()
    with pytest.raises(OfficialVoicesError, match=r"zm_yunxi\.bin is missing"):
        official_voices(copied)


def test_an_unreadable_manifest_is_refused(copied: Path) -> None:
    (copied / "voices.json").write_text('{"voices": [')
    with pytest.raises(OfficialVoicesError, match=r"voices\.json is unreadable"):
        official_voices(copied)


def test_a_store_over_another_directory_uses_its_packs(copied: Path) -> None:
    store = VoiceStore(builtin=official_voices(copied))
    assert len(store.ids()) == 54
    pack = store.get("af_heart").pack
    assert isinstance(pack, np.memmap)
    assert Path(str(pack.filename)) == (copied / "af_heart.bin").resolve()


def test_every_openai_name_maps_to_an_english_official_voice() -> None:
    official = official_voices()
    assert len(DEFAULT_OPENAI_VOICES) == 13
    for alias, voice in DEFAULT_OPENAI_VOICES.items():
        assert voice in official, alias
        assert official[voice].language in {"en-us", "en-gb"}, alias
    named = {"alloy", "echo", "fable", "nova", "onyx"}
    assert all(DEFAULT_OPENAI_VOICES[name].endswith(f"_{name}") for name in named)


# --- the provenance script -------------------------------------------------------------------


def _script() -> ModuleType:
    path = REPO / "scripts" / "official_voices.py"
    spec = importlib.util.spec_from_file_location("official_voices_script", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


VOICES_JS = """import fs from "fs/promises";
export const VOICES = Object.freeze({
  af_one: {
    name: "One",
    language: "en-us",
    gender: "Female",
    traits: "x",
    targetQuality: "A",
    overallGrade: "B-",
  },
  // ff_siwis: {
  //   name: "siwis",
  //   language: "es",
  //   gender: "Female",
  //   targetQuality: "B",
  //   overallGrade: "B-",
  // },
});
export function other() { return {a: "b"}; }
"""


def _archive(path: Path, packs: dict[str, bytes], voices_js: str = VOICES_JS) -> Path:
    members = {
        "kokoro-0.9.4/LICENSE": b"Apache License\n",
        "kokoro-0.9.4/kokoro.js/src/voices.js": voices_js.encode(),
        **{f"kokoro-0.9.4/kokoro.js/voices/{name}.bin": data for name, data in packs.items()},
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _sha256(path: Path) -> str:
    import hashlib  # noqa: PLC0415

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_script_derives_and_verifies_a_set_from_its_archive(tmp_path: Path) -> None:
    script = _script()
    size = script.PACK_BYTES
    archive = _archive(
        tmp_path / "k.tar.gz", {"af_one": b"\x01" * size, "ff_siwis": b"\x02" * size}
    )
    official = script.read_archive(archive, _sha256(archive))
    assert official.metadata["ff_siwis"]["language"] == "fr-fr"  # commented out, and fixed
    assert official.metadata["af_one"] == {
        "name": "One",
        "language": "en-us",
        "gender": "Female",
        "target_quality": "A",
        "overall_grade": "B-",
    }
    target = tmp_path / "shipped"
    script.derive(official, target)
    assert script.verify(official, target) == []
    manifest = json.loads((target / "voices.json").read_text())["voices"]
    assert manifest["af_one"]["file"] == "af_one.bin"
    # Shipped files that drift from the archive are reported, each by name.
    (target / "af_one.bin").write_bytes(b"\x03" * size)
    (target / "af_two.bin").write_bytes(b"\x01" * size)
    assert script.verify(official, target) == [
        "af_one.bin: differs from the published pack",
        "af_two.bin: not an official pack",
    ]


def test_the_script_refuses_an_archive_with_another_digest(tmp_path: Path) -> None:
    script = _script()
    archive = _archive(tmp_path / "k.tar.gz", {"af_one": b"\x01" * script.PACK_BYTES})
    with pytest.raises(script.ProvenanceError, match="expected"):
        script.read_archive(archive)


def test_the_script_refuses_packs_of_the_wrong_size(tmp_path: Path) -> None:
    script = _script()
    archive = _archive(tmp_path / "k.tar.gz", {"af_one": b"\x01" * 10, "ff_siwis": b"\x02" * 10})
    with pytest.raises(script.ProvenanceError, match="wrong size"):
        script.read_archive(archive, _sha256(archive))


def test_the_shipped_manifest_is_what_the_script_writes() -> None:
    """The manifest's layout is the script's: regenerating it from the shipped packs and
    their metadata gives the same bytes."""
    script = _script()
    manifest = json.loads((OFFICIAL_DIR / "voices.json").read_text())
    packs = {
        name: (OFFICIAL_DIR / entry["file"]).read_bytes()
        for name, entry in manifest["voices"].items()
    }
    metadata = {
        name: {
            key: entry[key]
            for key in ("name", "language", "gender", "target_quality", "overall_grade")
        }
        for name, entry in manifest["voices"].items()
    }
    official = script.OfficialSet(packs, metadata, (OFFICIAL_DIR / "LICENSE").read_bytes())
    assert script.manifest_bytes(official) == (OFFICIAL_DIR / "voices.json").read_bytes()
