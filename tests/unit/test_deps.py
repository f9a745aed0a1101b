"""The API key check: key comparison and Authorization headers (property tests)."""

from __future__ import annotations

import string

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from api.deps import RequireAPIKey, key_matches
from api.errors import install_error_handlers
from api.settings import Settings

KEYS = ["sk-first-key", "second"]
PRINTABLE = st.text(alphabet=string.printable.strip() + " ", max_size=40)
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)


@given(st.text(max_size=40), st.lists(PRINTABLE.filter(bool), max_size=4))
def test_a_key_matches_exactly_the_configured_ones(given_key: str, keys: list[str]) -> None:
    assert key_matches(given_key, [SecretStr(k) for k in keys]) == (given_key in keys)


@given(st.text(max_size=40))
def test_no_key_matches_when_none_are_configured(given_key: str) -> None:
    assert not key_matches(given_key, [])


@pytest.fixture(scope="module")
def http() -> TestClient:
    app = FastAPI()
    app.state.settings = Settings(api_keys=[SecretStr(k) for k in KEYS])
    install_error_handlers(app)

    @app.get("/protected", dependencies=[RequireAPIKey])
    async def protected() -> dict[str, bool]:
        return {"ok": True}

    return TestClient(app)


@given(HEADER_TEXT)
def test_any_authorization_header_is_let_in_or_refused_with_401(
    http: TestClient, header: str
) -> None:
    response = http.get("/protected", headers={"Authorization": header.encode("latin-1")})
    # A header value's outer whitespace is not part of it (RFC 9110).
    scheme, _, credentials = header.strip(" \t").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip() in KEYS:
        assert response.status_code == 200
    else:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


@given(
    st.sampled_from(KEYS), st.sampled_from(["Bearer", "bearer", "BEARER"]), st.text(" ", max_size=3)
)
def test_the_right_key_is_let_in_with_any_scheme_case_and_padding(
    http: TestClient, key: str, scheme: str, pad: str
) -> None:
    response = http.get("/protected", headers={"Authorization": f"{scheme} {pad}{key}{pad}"})
    assert response.status_code == 200
