"""FastAPI dependencies as named aliases; tests swap them with ``dependency_overrides``."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from api.errors import APIError
from api.metrics import Metrics
from api.settings import Settings
from api.speech import SpeechService

# Parses "Authorization: Bearer KEY" and declares the scheme in the OpenAPI
# schema, so /docs can send a key; the decision is require_api_key's.
_bearer = HTTPBearer(auto_error=False, description="An API key from KOKORO_API_KEYS.")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_speech_service(request: Request) -> SpeechService:
    service: SpeechService = request.app.state.speech
    return service


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def key_matches(given: str, keys: Sequence[SecretStr]) -> bool:
    """Whether ``given`` is one of ``keys``, in time independent of where they differ.

    Both sides are hashed first, so the comparison does not reveal the keys'
    lengths either, and every key is compared (no early exit on a match).
    """
    digest = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    matched = False
    for key in keys:
        expected = hashlib.sha256(key.get_secret_value().encode()).digest()
        matched |= secrets.compare_digest(digest, expected)
    return matched


def require_api_key(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let the request through when no keys are configured or it carries one of them."""
    if not settings.api_keys:
        return
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise APIError(
            401,
            "You didn't provide an API key. Send it in the header 'Authorization: Bearer KEY'.",
            code="invalid_api_key",
            headers=challenge,
        )
    if not key_matches(credentials.credentials, settings.api_keys):
        raise APIError(
            401,
            "Incorrect API key provided.",
            code="invalid_api_key",
            headers=challenge,
        )


SettingsDep = Annotated[Settings, Depends(get_settings)]
SpeechServiceDep = Annotated[SpeechService, Depends(get_speech_service)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
RequireAPIKey = Depends(require_api_key)
"""For ``include_router(..., dependencies=[RequireAPIKey])``: a 401 without a valid key."""
