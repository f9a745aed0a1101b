from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.backends.fake import FakeBackend
from api.settings import Settings
from api.weights import ModelFiles, ensure_model_dir
from tests.appclient import CHECKED_ERRORS
from tests.realserver import RunningServer, bake, real_server


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    """A model directory assembled once per test session from the installed packages."""
    return ensure_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture
def settings(model_files: ModelFiles, tmp_path: Path) -> Settings:
    return Settings(model_dir=model_files.directory, voices_dir=tmp_path / "voices")


@pytest.fixture
def fake_backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
async def app(settings: Settings, fake_backend: FakeBackend) -> AsyncIterator[FastAPI]:
    """The real app with the fake backend, its lifespan run as uvicorn would."""
    application = create_app(settings, backend=fake_backend)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", event_hooks=CHECKED_ERRORS
    ) as http:
        yield http


@pytest.fixture(scope="session")
def baked_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory made by ``kokoro-server bake``, as the Docker build makes it."""
    return bake(tmp_path_factory.mktemp("baked"))


@pytest.fixture(scope="session")
def server(baked_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The real server (``kokoro-server serve``, uvicorn, ONNX model) on a free port,
    shared by the integration tests and the web UI's browser tests."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with real_server(baked_dir, tmp_path_factory.mktemp("voices"), log) as running:
        yield running
