#!/usr/bin/env bash
# Make a Debian machine (root, apt, no Docker engine, no container registry)
# able to build and run this project's images with Podman. Each step is
# skipped when its result is already there, so reruns cost nothing:
#   1. podman, runc, the DNS plugin and mmdebstrap from apt;
#   2. /etc/containers/containers.conf: runc (crun fails on hybrid cgroups
#      here) and ulimits that an unprivileged rlimit raise cannot exceed;
#   3. a local stand-in for python:3.11-slim, which cannot be pulled: a
#      minimal Debian bookworm with Python 3.11 and pip, trusting this
#      machine's extra CA certificates (pip and uv need them in a build).
set -euo pipefail

readonly BASE_IMAGE=docker.io/library/python:3.11-slim
readonly PACKAGES=(podman runc golang-github-containernetworking-plugin-dnsname mmdebstrap)
readonly CONTAINERS_CONF=/etc/containers/containers.conf
readonly EXTRA_CA_DIR=/usr/local/share/ca-certificates

log() { printf 'setup-podman: %s\n' "$*" >&2; }

install_packages() {
    local missing=() package
    for package in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f '${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed; then
            missing+=("$package")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return
    fi
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

configure_engine() {
    if [[ -e $CONTAINERS_CONF ]]; then
        return
    fi
    log "writing $CONTAINERS_CONF"
    mkdir -p "$(dirname "$CONTAINERS_CONF")"
    cat >"$CONTAINERS_CONF" <<'EOF'
# Written by kokoro-server's docker/setup-podman.sh.
[containers]
# Raising rlimits is not permitted here; stay within the current ones.
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
# crun fails on this machine's hybrid cgroup layout; runc works.
runtime = "runc"
EOF
}

debian_mirror() {
    # DEBIAN_MIRROR, else the first Debian archive URI apt uses here (deb822 or
    # one-line format): the archive this machine is known to reach.
    local uri=${DEBIAN_MIRROR:-}
    if [[ -z $uri ]]; then
        uri=$(grep -rhoE --include='*.sources' --include='*.list' 'https?://[^ ]+/debian/?( |$)' \
            /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null | head -n 1 | tr -d ' ' || true)
    fi
    if [[ -z $uri ]]; then
        log "no Debian archive in apt's sources; set DEBIAN_MIRROR to the URL of one"
        return 1
    fi
    printf '%s\n' "$uri"
}

make_base_image() {
    if podman image exists "$BASE_IMAGE"; then
        return
    fi
    local mirror
    context=$(mktemp -d)
    trap 'rm -rf "$context"' EXIT
    mirror=$(debian_mirror)
    log "building the stand-in for $BASE_IMAGE from $mirror"
    mmdebstrap --quiet --variant=minbase \
        --include=python3,python3-pip,python3-venv,ca-certificates \
        bookworm "$context/rootfs.tar" "$mirror"
    mkdir "$context/ca"
    if compgen -G "$EXTRA_CA_DIR/*.crt" >/dev/null; then
        cp "$EXTRA_CA_DIR"/*.crt "$context/ca/"
    fi
    cat >"$context/Containerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
COPY ca/ /usr/local/share/ca-certificates/
# Debian's python3 in place of the image's own build: the same 3.11, the same
# `python` and `pip` names, and pip/uv allowed to install outside a venv.
RUN update-ca-certificates \
 && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \
 && ln -s /usr/bin/python3 /usr/local/bin/python \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip
# uv reads its own certificate roots unless told otherwise; the machine's CA is
# only in the system bundle.
ENV LANG=C.UTF-8 SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
EOF
    podman build --quiet --pull=never --format docker -t "$BASE_IMAGE" "$context" >/dev/null
}

install_packages
configure_engine
make_base_image
log "ready: podman $(podman version --format '{{.Client.Version}}'), base image $BASE_IMAGE"
