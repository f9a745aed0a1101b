"""Settings from KOKORO_* environment variables, with defaults and bounds."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from api.settings import Settings, split_list, user_data_dir


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No KOKORO_* variables from the caller and no .env file in the working directory."""
    for name in list(os.environ):
        if name.upper().startswith("KOKORO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)


def test_defaults(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8880
    assert settings.default_voice == "af_heart"
    assert settings.max_input_chars == 100_000
    assert settings.onnx_threads == 0
    assert settings.log_level == "info"
    assert settings.api_keys == []
    assert settings.cors_origins == []
    assert not settings.public_metrics
    assert settings.max_body_bytes == 2 * 1024 * 1024
    assert settings.max_queued_requests == 7
    assert settings.capacity_headroom == 0.9
    assert settings.request_timeout_s == 8 * 3600
    assert settings.max_pause_s == 60
    assert settings.max_total_pause_s == 3600
    assert settings.max_file_audio_s == 4 * 3600
    assert settings.audio_cache_mb == 0  # repeats are computed again unless asked
    assert settings.shutdown_grace_s == 25
    assert settings.model_dir == tmp_path / "xdg" / "kokoro-server" / "model"
    assert settings.voices_dir == tmp_path / "xdg" / "kokoro-server" / "voices"


def test_user_data_dir_falls_back_to_local_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_data_dir() == tmp_path / "home" / ".local" / "share" / "kokoro-server"


def test_empty_xdg_data_home_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_data_dir() == tmp_path / "home" / ".local" / "share" / "kokoro-server"


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        ("KOKORO_PORT", "9000", "port", 9000),
        ("KOKORO_HOST", "0.0.0.0", "host", "0.0.0.0"),
        ("KOKORO_MODEL_DIR", "/srv/model", "model_dir", Path("/srv/model")),
        ("KOKORO_VOICES_DIR", "/srv/voices", "voices_dir", Path("/srv/voices")),
        ("KOKORO_DEFAULT_VOICE", "jm_kumo", "default_voice", "jm_kumo"),
        ("KOKORO_MAX_INPUT_CHARS", "5000", "max_input_chars", 5000),
        ("KOKORO_ONNX_THREADS", "4", "onnx_threads", 4),
        ("KOKORO_LOG_LEVEL", "debug", "log_level", "debug"),
        ("kokoro_port", "9001", "port", 9001),
        ("KOKORO_MAX_BODY_BYTES", "65536", "max_body_bytes", 65536),
        ("KOKORO_MAX_QUEUED_REQUESTS", "0", "max_queued_requests", 0),
        ("KOKORO_REQUEST_TIMEOUT_S", "90.5", "request_timeout_s", 90.5),
        ("KOKORO_SHUTDOWN_GRACE_S", "60", "shutdown_grace_s", 60),
        ("KOKORO_PUBLIC_METRICS", "true", "public_metrics", True),
    ],
)
def test_reads_kokoro_prefixed_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), field) == expected


def test_unprefixed_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("HOST", "0.0.0.0")
    settings = Settings()
    assert (settings.port, settings.host) == (8880, "127.0.0.1")


def test_reads_a_dotenv_file_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KOKORO_PORT=7000\nUNRELATED=1\n")
    assert Settings().port == 7000


def test_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KOKORO_PORT=7000\n")
    monkeypatch.setenv("KOKORO_PORT", "7001")
    assert Settings().port == 7001


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KOKORO_PORT", "0"),
        ("KOKORO_PORT", "65536"),
        ("KOKORO_PORT", "eighty"),
        ("KOKORO_MAX_INPUT_CHARS", "0"),
        ("KOKORO_MAX_INPUT_CHARS", "1000001"),
        ("KOKORO_ONNX_THREADS", "-1"),
        ("KOKORO_ONNX_THREADS", "257"),
        ("KOKORO_LOG_LEVEL", "verbose"),
        ("KOKORO_DEFAULT_VOICE", "Bad Voice"),
        ("KOKORO_DEFAULT_VOICE", ""),
        ("KOKORO_MAX_BODY_BYTES", "100"),
        ("KOKORO_MAX_QUEUED_REQUESTS", "-1"),
        ("KOKORO_REQUEST_TIMEOUT_S", "-1"),
        ("KOKORO_SHUTDOWN_GRACE_S", "1.5"),
    ],
)
def test_out_of_bounds_environment_is_rejected(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    field = variable.removeprefix("KOKORO_").lower()
    with pytest.raises(ValidationError, match=field):
        Settings()


@pytest.mark.parametrize(("field", "value"), [("port", 0), ("max_input_chars", 0)])
def test_out_of_bounds_arguments_are_rejected(field: str, value: int) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [("port", 1), ("port", 65535), ("max_input_chars", 1), ("onnx_threads", 256)],
)
def test_values_on_the_bounds_are_accepted(field: str, value: int) -> None:
    assert getattr(Settings(**{field: value}), field) == value  # type: ignore[arg-type]


# --- list settings: comma-separated or JSON -------------------------------------------------

TOKEN = st.text(alphabet=string.ascii_letters + string.digits + "-_.:/*+=", min_size=1, max_size=12)


@given(st.lists(TOKEN, max_size=5), st.text(alphabet=" \t", max_size=2))
def test_a_list_setting_reads_commas_or_json(items: list[str], pad: str) -> None:
    comma_separated = ",".join(f"{pad}{item}{pad}" for item in items)
    assert split_list(comma_separated) == items
    assert split_list(json.dumps(items)) == items
    assert split_list(comma_separated + ",,") == items  # blank items are dropped


def test_api_keys_and_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOKORO_API_KEYS", "first-key, second-key")
    monkeypatch.setenv("KOKORO_CORS_ORIGINS", '["https://a.example", "https://b.example"]')
    settings = Settings()
    assert [key.get_secret_value() for key in settings.api_keys] == ["first-key", "second-key"]
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert "first-key" not in repr(settings)


@pytest.mark.parametrize("value", ["", " ", ",", "[]"])
def test_no_api_keys_means_an_open_server(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("KOKORO_API_KEYS", value)
    assert Settings().api_keys == []


@pytest.mark.parametrize("value", ['["has space"]', '["tab\\there"]', '["ключ"]', "[1"])
def test_unusable_api_keys_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("KOKORO_API_KEYS", value)
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(("value", "port"), [("10200", 10200), ("", None), ("off", None)])
def test_the_wyoming_port_can_be_turned_off_again(
    monkeypatch: pytest.MonkeyPatch, value: str, port: int | None
) -> None:
    monkeypatch.setenv("KOKORO_WYOMING_PORT", value)
    assert Settings().wyoming_port == port


def test_a_bad_wyoming_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOKORO_WYOMING_PORT", "tenthousand")
    with pytest.raises(ValidationError):
        Settings()
