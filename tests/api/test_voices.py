"""Voice mixing, saving, importing and deleting through the API (fake backend)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest

from api.settings import Settings
from api.voices.formats import pt_bytes, read_voice_packs
from api.voices.official import official_voices
from api.voices.store import DEFAULT_OPENAI_VOICES
from api.weights import ModelFiles
from tests.appclient import running

pytestmark = pytest.mark.anyio

SPEECH = "/v1/audio/speech"
OPENAI_NAMES = [
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx",
    "nova", "sage", "shimmer", "verse", "marin", "cedar",
]  # fmt: skip
SHARED_VOICES = Path(__file__).resolve().parents[3] / "shared" / "voices"


async def listed(client: httpx.AsyncClient) -> dict[str, dict[str, object]]:
    return {v["id"]: v for v in (await client.get("/v1/audio/voices")).json()["voices"]}


def builtin(name: str) -> np.ndarray:
    return np.asarray(official_voices()[name].open())


async def test_every_openai_voice_name_is_mapped_and_speaks(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/audio/voices")).json()
    assert sorted(body["openai_voices"]) == sorted(OPENAI_NAMES)
    assert set(DEFAULT_OPENAI_VOICES) == set(OPENAI_NAMES)
    for name in OPENAI_NAMES:
        response = await client.post(SPEECH, json={"input": "Hi.", "voice": name, "stream": False})
        assert response.status_code == 200, (name, response.text)
        assert len(response.content) > 1000


async def test_a_blend_spec_is_a_voice_wherever_a_voice_is_taken(
    client: httpx.AsyncClient,
) -> None:
    body = {"input": "Mixed.", "voice": "jf_alpha(2)+jm_kumo(1)", "response_format": "pcm"}
    mixed = await client.post(SPEECH, json=body)
    alpha = await client.post(SPEECH, json={**body, "voice": "jf_alpha"})
    assert mixed.status_code == 200
    assert mixed.content != alpha.content  # the fake backend's pitch follows the style


async def test_a_malformed_spec_is_400_saying_where(client: httpx.AsyncClient) -> None:
    response = await client.post(SPEECH, json={"input": "Hi.", "voice": "jf_alpha(2+jm_kumo"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"]) == ("voice", "invalid_voice_spec")
    assert "character 11" in error["message"]


async def test_an_unknown_voice_in_a_spec_is_404_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post(SPEECH, json={"input": "Hi.", "voice": "jf_alpha+jm_kumu"})
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "jm_kumu" in message
    assert "jm_kumo" in message


async def test_combine_returns_a_pt_file_of_the_blend(
    client: httpx.AsyncClient, model_files: ModelFiles
) -> None:
    response = await client.post("/v1/audio/voices/combine", json={"voices": "jf_alpha+jm_kumo"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith('.pt"')
    (pack,) = read_voice_packs(response.content, "mix.pt").values()
    expected = (builtin("jf_alpha") + builtin("jm_kumo")) / 2
    np.testing.assert_allclose(pack, expected, atol=1e-6)
    assert "mix" not in {v["source"] for v in (await listed(client)).values()}


async def test_a_named_mix_is_saved_listed_usable_and_survives_a_restart(
    settings: Settings,
) -> None:
    async with running(settings) as client:
        body = {"voices": "jf_alpha(2)+jm_kumo(1)", "name": "warm-blend"}
        saved = await client.post("/v1/audio/voices/combine", json=body)
        assert saved.status_code == 200
        voice = (await listed(client))["warm-blend"]
        assert (voice["source"], voice["language"]) == ("mix", "ja")
        assert voice["spec"] == "jf_alpha(0.6667)+jm_kumo(0.3333)"
        speech = {"input": "Saved.", "voice": "warm-blend", "response_format": "pcm"}
        before = (await client.post(SPEECH, json=speech)).content
    async with running(settings) as client:
        assert (await listed(client))["warm-blend"]["source"] == "mix"
        after = await client.post(SPEECH, json=speech)
        assert after.content == before


async def test_saving_over_a_name_needs_overwrite(client: httpx.AsyncClient) -> None:
    body = {"voices": "jf_alpha+jm_kumo", "name": "duo"}
    assert (await client.post("/v1/audio/voices/combine", json=body)).status_code == 200
    again = await client.post("/v1/audio/voices/combine", json={**body, "voices": "jm_kumo"})
    assert again.status_code == 409
    forced = {**body, "voices": "jm_kumo", "overwrite": True}
    assert (await client.post("/v1/audio/voices/combine", json=forced)).status_code == 200
    assert (await listed(client))["duo"]["spec"] == "jm_kumo"


@pytest.mark.parametrize(
    ("name", "status"),
    [("jf_alpha", 403), ("alloy", 403), ("../evil", 400), ("Upper", 400), ("a" * 65, 400)],
)
async def test_protected_and_invalid_names_are_refused(
    client: httpx.AsyncClient, settings: Settings, name: str, status: int
) -> None:
    body = {"voices": "jf_alpha+jm_kumo", "name": name}
    response = await client.post("/v1/audio/voices/combine", json=body)
    assert response.status_code == status
    assert response.json()["error"]["param"] == "name"
    assert not any(settings.voices_dir.parent.glob("evil*"))


async def test_delete_a_saved_voice_and_not_a_builtin(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    body = {"voices": "jf_alpha+jm_kumo", "name": "gone-soon"}
    await client.post("/v1/audio/voices/combine", json=body)
    assert (await client.delete("/v1/audio/voices/gone-soon")).status_code == 204
    assert "gone-soon" not in await listed(client)
    assert not (settings.voices_dir / "gone-soon.npy").exists()
    assert (await client.delete("/v1/audio/voices/gone-soon")).status_code == 404
    assert (await client.delete("/v1/audio/voices/jf_alpha")).status_code == 403
    assert (await client.delete("/v1/audio/voices/alloy")).status_code == 403
    async with running(settings) as restarted:
        assert "gone-soon" not in await listed(restarted)


async def test_upload_a_pt_pack(client: httpx.AsyncClient, model_files: ModelFiles) -> None:
    data = pt_bytes(builtin("jf_nezumi") * 0.5)
    files = {"file": ("Quiet.pt", data, "application/octet-stream")}
    response = await client.post("/v1/audio/voices", files=files, data={"name": "quiet"})
    assert response.status_code == 201, response.text
    assert [v["id"] for v in response.json()["voices"]] == ["quiet"]
    assert (await listed(client))["quiet"]["source"] == "imported"
    speech = {"input": "Imported.", "voice": "quiet", "stream": False}
    assert (await client.post(SPEECH, json=speech)).status_code == 200


async def test_upload_an_archive_of_several_voices(client: httpx.AsyncClient) -> None:
    buffer = io.BytesIO()
    rng = np.random.default_rng(1)
    np.savez(
        buffer,
        xf_one=rng.normal(size=(510, 1, 256)).astype(np.float32),
        xm_two=rng.normal(size=(510, 1, 256)).astype(np.float32),
    )
    files = {"file": ("pack.npz", buffer.getvalue(), "application/octet-stream")}
    response = await client.post("/v1/audio/voices", files=files)
    assert response.status_code == 201
    assert {"xf_one", "xm_two"} <= set(await listed(client))


async def test_a_bad_upload_leaves_nothing_behind(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    files = {"file": ("broken.pt", b"PK\x03\x04 not really a zip", "application/octet-stream")}
    response = await client.post("/v1/audio/voices", files=files)
    assert response.status_code == 400
    assert "broken.pt" in response.json()["error"]["message"]
    leftovers = list(settings.voices_dir.iterdir()) if settings.voices_dir.exists() else []
    assert [p.name for p in leftovers if p.name != "index.json"] == []


async def test_an_oversized_upload_is_413(settings: Settings) -> None:
    small = settings.model_copy(update={"max_voice_file_bytes": 4096})
    async with running(small) as client:
        files = {"file": ("big.npy", b"\0" * 5000, "application/octet-stream")}
        response = await client.post("/v1/audio/voices", files=files)
        assert response.status_code == 413
        assert "4096" in response.json()["error"]["message"]


@pytest.mark.skipif(not SHARED_VOICES.is_dir(), reason="../shared/voices is not present")
async def test_a_pytorch_pack_uploads(client: httpx.AsyncClient) -> None:
    # af_jadzia: a pack in the official .pt layout that is not one of the built-in voices.
    data = (SHARED_VOICES / "af_jadzia.pt").read_bytes()
    files = {"file": ("af_jadzia.pt", data, "application/octet-stream")}
    response = await client.post("/v1/audio/voices", files=files)
    assert response.status_code == 201
    voice = (await listed(client))["af_jadzia"]
    assert (voice["language"], voice["gender"], voice["source"]) == ("en-us", "female", "imported")


async def test_an_upload_that_is_not_a_file_is_a_clear_400(
    client: httpx.AsyncClient, model_files: ModelFiles
) -> None:
    data = pt_bytes(builtin("jm_kumo"))
    files = {"file": ("", data, "application/octet-stream")}  # no file name: a plain field
    response = await client.post("/v1/audio/voices", files=files, data={"name": "nameless"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "file"
    assert "nameless" not in await listed(client)


async def test_a_corrupted_voice_file_is_listed_as_skipped_and_the_server_serves(
    settings: Settings,
) -> None:
    settings.voices_dir.mkdir(parents=True)
    (settings.voices_dir / "af_broken.pt").write_bytes(b"PK\x03\x04 cut short")
    async with running(settings) as client:
        body = (await client.get("/v1/audio/voices")).json()
        assert [entry["file"] for entry in body["skipped_files"]] == ["af_broken.pt"]
        assert "af_broken.pt" in body["skipped_files"][0]["reason"]
        assert "af_broken" not in {voice["id"] for voice in body["voices"]}
        response = await client.post(SPEECH, json={"input": "Still fine.", "stream": False})
        assert response.status_code == 200
    assert (settings.voices_dir / "af_broken.pt").read_bytes() == b"PK\x03\x04 cut short"
