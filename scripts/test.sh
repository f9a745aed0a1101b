#!/usr/bin/env bash
# The project's one test command: lint, type-check, then the whole test suite
# (unit, API with a fake backend, and integration tests with the real model).
set -euo pipefail
cd "$(dirname "$0")/.."
# The dev group (test tools, linters) is not a default group: ask for it.
uv sync --frozen --extra ja --group dev
# The torch backend is tested too, on the CPU. PyPI's Linux torch is the CUDA
# build (several GB), so install the CPU build instead: from a local wheel
# directory when the machine has one (TORCH_WHEELS, default /opt/wheels), else
# from PyTorch's CPU index. `uv run` below keeps it (it syncs inexactly).
torch_cpu="torch==2.13.0+cpu"
wheels="${TORCH_WHEELS:-/opt/wheels}"
if compgen -G "$wheels/torch-2.13.0+cpu-*.whl" >/dev/null; then
    uv pip install --quiet --find-links "$wheels" "$torch_cpu"
else
    uv pip install --quiet --index-url https://download.pytorch.org/whl/cpu \
        --extra-index-url https://pypi.org/simple "$torch_cpu"
fi
uv run --frozen --group dev ruff check .
uv run --frozen --group dev ruff format --check .
uv run --frozen --group dev mypy
uv run --frozen --group dev pytest "$@"
