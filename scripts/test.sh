#!/usr/bin/env bash
# The project's one test command: lint, type-check, then the whole test suite
# (unit, API with a fake backend, and integration tests with the real model).
set -euo pipefail
cd "$(dirname "$0")/.."
# The dev group (test tools, linters) is not a default group: ask for it.
uv sync --frozen --extra ja --group dev
# The torch backend is tested too, on the CPU. PyPI's Linux torch is the CUDA
# build (several GB), so the CPU build is installed instead, from the machine's
# wheel directory (TORCH_WHEELS, default /opt/wheels). It has to be there: the
# sync above removes a torch installed by hand. `uv run` below keeps it (it
# syncs inexactly).
torch_version="2.13.0+cpu"
wheels="${TORCH_WHEELS:-/opt/wheels}"
if ! compgen -G "$wheels/torch-$torch_version-*.whl" >/dev/null; then
    cat >&2 <<EOF
error: scripts/test.sh needs the CPU wheel of torch $torch_version in $wheels
(TORCH_WHEELS), for the torch backend's tests, and there is none.
Put the wheel for this machine there, e.g. on Linux x86_64 with Python 3.11
  torch-$torch_version-cp311-cp311-manylinux_2_28_x86_64.whl
from PyTorch's CPU wheel index (the "CPU" index URL of PyTorch's install
instructions):
  pip download --no-deps --index-url <that index URL> "torch==$torch_version" -d "$wheels"
or set TORCH_WHEELS to a directory that holds it.
EOF
    exit 1
fi
uv pip install --quiet --find-links "$wheels" "torch==$torch_version"
uv run --frozen --group dev ruff check .
uv run --frozen --group dev ruff format --check .
uv run --frozen --group dev mypy
uv run --frozen --group dev pytest "$@"
