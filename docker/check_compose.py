"""Check the merged CPU + GPU compose configuration: ``docker compose config --format json``
of both files on standard input.

``compose config`` only proves each file is valid. An override that misses
its service (a typo in its name adds a second service) is valid too, so this
checks that the merged service builds the gpu target, reserves an NVIDIA GPU,
keeps the named volume on /data, and publishes the HTTP port (8880) and the
Wyoming port (10200) that KOKORO_WYOMING_PORT names.
"""

from __future__ import annotations

import json
import sys
from typing import Any

WYOMING_PORT = 10200
PUBLISHED_PORTS = (8880, WYOMING_PORT)
"""The HTTP API's port and Wyoming's, each published on the host as itself."""


def problems(service: dict[str, Any]) -> list[str]:
    found = []
    target = service.get("build", {}).get("target")
    if target != "gpu":
        found.append(f"builds target {target!r}, not 'gpu'")
    reservations = service.get("deploy", {}).get("resources", {}).get("reservations", {})
    if not any(
        device.get("driver") == "nvidia" and "gpu" in device.get("capabilities", [])
        for device in reservations.get("devices", [])
    ):
        found.append("reserves no NVIDIA GPU")
    if not any(
        volume.get("type") == "volume" and volume.get("target") == "/data"
        for volume in service.get("volumes", [])
    ):
        found.append("has no named volume on /data")
    published = {
        (port.get("target"), str(port.get("published"))) for port in service.get("ports", [])
    }
    found.extend(
        f"does not publish port {port} as {port}"
        for port in PUBLISHED_PORTS
        if (port, str(port)) not in published
    )
    wyoming = service.get("environment", {}).get("KOKORO_WYOMING_PORT")
    if wyoming != str(WYOMING_PORT):
        found.append(f"sets KOKORO_WYOMING_PORT to {wyoming!r}, not '{WYOMING_PORT}'")
    return found


def main() -> int:
    services = json.load(sys.stdin)["services"]
    if set(services) != {"kokoro"}:
        found = [f"has services {sorted(services)}, expected only 'kokoro'"]
    else:
        found = [f"service kokoro {problem}" for problem in problems(services["kokoro"])]
    for problem in found:
        print(f"compose (cpu + gpu): {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
