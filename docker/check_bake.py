"""Parse docker/docker-bake.hcl and check it against the Dockerfile and pyproject.toml.

BuildKit (and so ``docker buildx bake``) is not available on every machine
that runs CI, so this stands in for ``bake --print``: the file must parse as
HCL, the default group must build the cpu and gpu targets for linux/amd64 and
linux/arm64, each target must name a stage of its Dockerfile and carry tags
that use only declared variables, and VERSION must be the project's version.
Run it from the repository root: ``uvx --from python-hcl2 python docker/check_bake.py``.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import hcl2

BAKE_FILE = Path("docker/docker-bake.hcl")
REQUIRED_TARGETS = {"cpu", "gpu"}
REQUIRED_PLATFORMS = {"linux/amd64", "linux/arm64"}


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals; drop them, recursively."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [unquote(item) for item in value]
    if isinstance(value, dict):
        return {unquote(key): unquote(item) for key, item in value.items()}
    return value


def blocks(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """``{label: attributes}`` for every block of one kind (python-hcl2 lists them)."""
    return {
        label: attributes
        for entry in document.get(kind, [])
        for label, attributes in unquote(entry).items()
    }


def resolved(targets: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """A target's attributes with those of the targets it inherits from underneath."""
    merged: dict[str, Any] = {}
    for parent in targets[name].get("inherits", []):
        merged.update(resolved(targets, parent))
    merged.update(targets[name])
    return merged


def stages(dockerfile: Path) -> set[str]:
    text = dockerfile.read_text()
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, flags=re.IGNORECASE | re.MULTILINE))


def problems(document: dict[str, Any], project_version: str) -> list[str]:
    found: list[str] = []
    variables = blocks(document, "variable")
    targets = blocks(document, "target")
    default = blocks(document, "group").get("default", {}).get("targets", [])
    if set(default) != REQUIRED_TARGETS:
        found.append(f"group default builds {default}, expected {sorted(REQUIRED_TARGETS)}")
    version = variables.get("VERSION", {}).get("default")
    if version != project_version:
        found.append(f"VERSION defaults to {version!r}, pyproject.toml says {project_version!r}")
    for name in sorted(REQUIRED_TARGETS & targets.keys()):
        target = resolved(targets, name)
        platforms = set(target.get("platforms", []))
        if not platforms >= REQUIRED_PLATFORMS:
            found.append(
                f"target {name}: platforms {sorted(platforms)} miss some of "
                f"{sorted(REQUIRED_PLATFORMS)}"
            )
        dockerfile = Path(target.get("context", ".")) / target.get("dockerfile", "Dockerfile")
        if not dockerfile.is_file():
            found.append(f"target {name}: {dockerfile} does not exist")
        elif target.get("target") not in stages(dockerfile):
            found.append(f"target {name}: {dockerfile} has no stage {target.get('target')!r}")
        tags = target.get("tags", [])
        if not tags:
            found.append(f"target {name}: no tags")
        for tag in tags:
            unknown = set(re.findall(r"\$\{(\w+)\}", tag)) - variables.keys()
            if unknown:
                found.append(f"target {name}: tag {tag} uses undeclared {sorted(unknown)}")
    return found


def main() -> int:
    with BAKE_FILE.open() as handle:
        document = hcl2.load(handle)
    project_version = tomllib.loads(Path("pyproject.toml").read_text())["project"]["version"]
    found = problems(document, project_version)
    for problem in found:
        print(f"{BAKE_FILE}: {problem}", file=sys.stderr)
    if not found:
        print(f"{BAKE_FILE}: ok (targets {', '.join(sorted(REQUIRED_TARGETS))})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
