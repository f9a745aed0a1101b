"""Fuzzing from the OpenAPI schema (schemathesis): no 5xx, responses match the schema.

Every operation the schema lists gets generated requests, valid and invalid,
against the app with the fake backend and an API key; schemathesis checks
each response (no server error, a documented status and content type, a body
that matches its schema, invalid input refused, a missing or wrong key
refused). Bounded, so it stays fast in CI.

Left out: the check that every schema-valid request succeeds. The API checks
meaning that a JSON schema cannot state (a voice spec's grammar, whether a
text has anything speakable, a file's format) and answers those with
documented 400s.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.backends.fake import FakeBackend
from api.settings import Settings
from api.weights import ModelFiles

MAX_EXAMPLES = 40
KEY = "fuzz-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
OPERATIONS = [
    ("POST", "/v1/audio/speech"),
    ("POST", "/v1/audio/dialogue"),
    ("GET", "/v1/audio/voices"),
    ("POST", "/v1/audio/voices"),
    ("POST", "/v1/audio/voices/combine"),
    ("DELETE", "/v1/audio/voices/{name}"),
    ("GET", "/v1/audio/lexicon/{language}"),
    ("PUT", "/v1/audio/lexicon/{language}"),
    ("DELETE", "/v1/audio/lexicon/{language}/{word}"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/{model_id}"),
    ("POST", "/dev/phonemize"),
    ("POST", "/dev/generate_from_phonemes"),
    ("POST", "/dev/captioned_speech"),
    ("GET", "/health"),
]


@pytest.fixture(scope="module")
def api_schema(
    model_files: ModelFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[schemathesis.schemas.BaseSchema]:
    settings = Settings(
        model_dir=model_files.directory,
        voices_dir=tmp_path_factory.mktemp("fuzz-voices"),
        max_input_chars=2000,  # long inputs only slow the fuzzing down
        api_keys=[SecretStr(KEY)],  # so that schemathesis checks the key is enforced too
    )
    # schemathesis runs the app's lifespan itself (model and voices loaded) and
    # keeps it for the process; stop it when this module is done.
    yield schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(settings, backend=FakeBackend())
    )
    shutdown_lifespans()


def test_every_operation_is_fuzzed(api_schema: schemathesis.schemas.BaseSchema) -> None:
    listed = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in GenerationMode
    if (method, path, mode) != ("GET", "/health", GenerationMode.NEGATIVE)  # takes no input
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_operation_conforms_to_the_schema(
    api_schema: schemathesis.schemas.BaseSchema, method: str, path: str, mode: GenerationMode
) -> None:
    """Valid requests (positive) and invalid ones (negative) for one operation."""
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call(headers=AUTH)
        if mode is GenerationMode.NEGATIVE and response.status_code == 413:
            # The body limit refused it before its fields were read: a rejection too,
            # though schemathesis does not count 413 as one (a megabytes-long case).
            assert response.json()["error"]["code"] == "request_too_large"
            return
        case.validate_response(response, excluded_checks=[positive_data_acceptance])

    fuzz()
