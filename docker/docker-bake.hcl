# Build both images for both architectures with BuildKit, from the repository root:
#
#   docker buildx bake -f docker/docker-bake.hcl --push        # cpu + gpu, linux/amd64 + linux/arm64
#   REGISTRY=registry.example.com/you/ docker buildx bake -f docker/docker-bake.hcl --push
#   docker buildx bake -f docker/docker-bake.hcl cpu --set '*.platform=linux/amd64' --load
#
# A multi-platform result cannot be loaded into a classic local image store:
# push it, or build one platform with --load. Paths are relative to the
# directory bake runs in (the repository root), not to this file.
#
# Both images expose 8880 (the HTTP API) and 10200 (Wyoming, for Home
# Assistant; the Dockerfile sets KOKORO_WYOMING_PORT=10200): publish them with
# -p 8880:8880 -p 10200:10200.

variable "REGISTRY" {
  # Prefix for the tags, with its trailing slash ("" keeps local names).
  default = ""
}

variable "IMAGE" {
  default = "kokoro-server"
}

variable "VERSION" {
  # The project version (pyproject.toml); docker/lint.sh checks they agree.
  default = "0.1.0"
}

group "default" {
  targets = ["cpu", "gpu"]
}

target "_common" {
  context    = "."
  dockerfile = "docker/Dockerfile"
  platforms  = ["linux/amd64", "linux/arm64"]
  args = {
    VERSION = VERSION
  }
}

target "cpu" {
  inherits = ["_common"]
  target   = "cpu"
  tags = [
    "${REGISTRY}${IMAGE}:${VERSION}",
    "${REGISTRY}${IMAGE}:${VERSION}-cpu",
    "${REGISTRY}${IMAGE}:cpu",
    "${REGISTRY}${IMAGE}:latest",
  ]
}

target "gpu" {
  inherits = ["_common"]
  target   = "gpu"
  tags = [
    "${REGISTRY}${IMAGE}:${VERSION}-gpu",
    "${REGISTRY}${IMAGE}:gpu",
  ]
}
