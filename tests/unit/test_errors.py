"""OpenAI's error type and code for each status (api.errors)."""

from __future__ import annotations

import pytest

from api.errors import APIError, http_error_code, type_for_status


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (401, "invalid_request_error"),
        (403, "permission_error"),
        (404, "invalid_request_error"),
        (409, "invalid_request_error"),
        (418, "invalid_request_error"),  # any other 4xx: the client's doing
        (429, "rate_limit_error"),
        (500, "server_error"),
        (501, "server_error"),
        (502, "server_error"),  # any other 5xx: the server's
    ],
)
def test_each_status_has_its_openai_type(status: int, error_type: str) -> None:
    assert type_for_status(status) == error_type
    assert APIError(status, "x", code="some_code").error_type == error_type


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "not_found"),
        (405, "method_not_allowed"),
        (413, "request_too_large"),
        (418, "http_error"),
    ],
)
def test_starlettes_errors_get_a_code(status: int, code: str) -> None:
    assert http_error_code(status) == code


def test_an_explicit_type_wins() -> None:
    error = APIError(429, "slow down", code="server_overloaded", error_type="tokens")
    assert error.body() == {
        "error": {
            "message": "slow down",
            "type": "tokens",
            "param": None,
            "code": "server_overloaded",
        }
    }
