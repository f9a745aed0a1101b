"""Which backend runs where: the decision table and the CPU count."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from api.backends.base import BackendUnavailableError
from api.backends.select import (
    ONNX_GPU_INSTALL,
    TORCH_INSTALL,
    BackendName,
    DeviceName,
    Probe,
    choose,
    cpu_cores,
)

CPU_ONLY = Probe(torch_installed=False, torch_cuda=False, onnx_cuda=False)
CPU_WITH_TORCH = Probe(torch_installed=True, torch_cuda=False, onnx_cuda=False)
GPU_TORCH = Probe(torch_installed=True, torch_cuda=True, onnx_cuda=False)
GPU_ONNX = Probe(torch_installed=False, torch_cuda=False, onnx_cuda=True)
GPU_BOTH = Probe(torch_installed=True, torch_cuda=True, onnx_cuda=True)


@pytest.mark.parametrize(
    ("backend", "device", "probe", "expected"),
    [
        ("auto", "auto", CPU_ONLY, ("onnx", "cpu")),
        ("auto", "auto", CPU_WITH_TORCH, ("onnx", "cpu")),
        ("auto", "auto", GPU_TORCH, ("torch", "cuda")),
        ("auto", "auto", GPU_ONNX, ("onnx", "cuda")),
        ("auto", "auto", GPU_BOTH, ("torch", "cuda")),
        ("auto", "cpu", GPU_BOTH, ("onnx", "cpu")),
        ("auto", "cuda", GPU_ONNX, ("onnx", "cuda")),
        ("onnx", "auto", GPU_BOTH, ("onnx", "cuda")),
        ("onnx", "auto", CPU_WITH_TORCH, ("onnx", "cpu")),
        ("onnx", "cpu", GPU_BOTH, ("onnx", "cpu")),
        ("torch", "auto", CPU_WITH_TORCH, ("torch", "cpu")),
        ("torch", "auto", GPU_TORCH, ("torch", "cuda")),
        ("torch", "cpu", GPU_TORCH, ("torch", "cpu")),
        ("torch", "cuda", GPU_BOTH, ("torch", "cuda")),
    ],
)
def test_choice(
    backend: BackendName, device: DeviceName, probe: Probe, expected: tuple[str, str]
) -> None:
    choice = choose(backend, device, probe)
    assert (choice.backend, choice.device) == expected
    assert choice.reason


@pytest.mark.parametrize(
    ("backend", "device", "probe", "names"),
    [
        ("torch", "auto", CPU_ONLY, TORCH_INSTALL),
        ("torch", "cpu", GPU_ONNX, TORCH_INSTALL),
        ("torch", "cuda", CPU_WITH_TORCH, "no CUDA GPU"),
        ("onnx", "cuda", GPU_TORCH, ONNX_GPU_INSTALL),
        ("auto", "cuda", CPU_WITH_TORCH, TORCH_INSTALL),
        ("auto", "cuda", CPU_ONLY, ONNX_GPU_INSTALL),
    ],
)
def test_an_explicit_request_that_cannot_run_is_an_error_naming_the_fix(
    backend: BackendName, device: DeviceName, probe: Probe, names: str
) -> None:
    """Never a silent fallback to something the user did not ask for."""
    with pytest.raises(BackendUnavailableError, match="KOKORO_") as raised:
        choose(backend, device, probe)
    assert names in str(raised.value)


def test_cores_follow_the_affinity_without_a_quota(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000\n")
    assert cpu_cores(cpu_max) == len(os.sched_getaffinity(0))
    assert cpu_cores(tmp_path / "absent") == len(os.sched_getaffinity(0))


@pytest.mark.parametrize(("quota", "cores"), [("50000", 1), ("100000", 1), ("150000", 1)])
def test_a_cgroup_quota_caps_the_cores(tmp_path: Path, quota: str, cores: int) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(f"{quota} 100000\n")
    assert cpu_cores(cpu_max) == min(cores, len(os.sched_getaffinity(0)))


def test_a_large_quota_does_not_raise_the_cores_above_the_affinity(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("6400000 100000\n")
    assert cpu_cores(cpu_max) == len(os.sched_getaffinity(0))
