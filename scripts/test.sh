#!/usr/bin/env bash
# The project's one test command: lint, type-check, then the whole test suite
# (unit, API with a fake backend, and integration tests with the real model).
set -euo pipefail
cd "$(dirname "$0")/.."
uv sync --frozen --extra ja
uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen mypy
uv run --frozen pytest "$@"
