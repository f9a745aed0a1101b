"""The PyTorch network's plumbing, on random weights (no model files needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from api.backends.base import FRAME_SAMPLES, BackendUnavailableError
from api.backends.network import KokoroNetwork, alignment, flatten_official
from api.backends.pytorch import load_network


@pytest.fixture(scope="module")
def network() -> KokoroNetwork:
    torch.manual_seed(0)
    return KokoroNetwork().eval()


def test_alignment_repeats_each_token_for_its_frames() -> None:
    grid = alignment(torch.tensor([2, 1, 3]))
    assert grid.shape == (3, 6)
    assert grid.sum(dim=0).tolist() == [1.0] * 6
    assert grid.argmax(dim=0).tolist() == [0, 0, 1, 2, 2, 2]


def test_audio_lasts_600_samples_per_predicted_frame(network: KokoroNetwork) -> None:
    tokens = torch.tensor([[0, 50, 83, 54, 156, 57, 0]])
    with torch.inference_mode():
        audio, frames = network(tokens, torch.randn(1, 256), 1.0)
    assert frames.shape == (7,)
    assert (frames >= 1).all()
    assert audio.shape == (int(frames.sum()) * FRAME_SAMPLES,)
    assert torch.isfinite(audio).all()


def test_forced_durations_replace_the_predicted_ones(network: KokoroNetwork) -> None:
    tokens = torch.tensor([[0, 50, 83, 0]])
    with torch.inference_mode():
        out = network.stages(tokens, torch.randn(1, 256), 1.0, torch.tensor([1, 2, 3, 1]))
    assert out.audio.shape == (7 * FRAME_SAMPLES,)
    assert out.f0.shape == (1, 14)  # two pitch points per frame


def _official_layout(state: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """``state`` the way kokoro-v1_0.pth stores it: per component, ``module.``
    prefixes, weight norm as magnitude and direction, ALBERT's unused pooler."""
    official: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        part, name = key.split(".", 1)
        target = official.setdefault(part, {})
        normed = name.endswith(".weight") and value.dim() == 3
        if normed:
            norm = value.norm(dim=(1, 2), keepdim=True)
            target[f"module.{name}_g"] = norm
            target[f"module.{name}_v"] = value * 3.0  # any scale: only the direction counts
        else:
            target[f"module.{name}"] = value
    official["bert"]["module.pooler.weight"] = torch.zeros(768, 768)
    official["bert"]["module.embeddings.position_ids"] = torch.arange(512)[None]
    return official


def test_an_official_checkpoint_layout_flattens_to_our_state_dict(network: KokoroNetwork) -> None:
    state = network.state_dict()
    flat = flatten_official(_official_layout(state))
    assert flat.keys() == state.keys()
    for key, value in state.items():
        torch.testing.assert_close(flat[key], value, rtol=1e-5, atol=1e-6, msg=key)


def test_a_zero_direction_folds_to_zero_weights_not_nan() -> None:
    folded = flatten_official(
        {"conv.weight_g": torch.zeros(2, 1, 1), "conv.weight_v": torch.zeros(2, 3, 4)}
    )
    assert torch.equal(folded["conv.weight"], torch.zeros(2, 3, 4))


def test_weights_for_another_network_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"layer.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(BackendUnavailableError, match="does not fit Kokoro-82M"):
        load_network(path)


def test_a_file_that_is_not_a_state_dict_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.pt"
    torch.save([1, 2, 3], path)
    with pytest.raises(BackendUnavailableError, match="not a state dict"):
        load_network(path)
    (tmp_path / "garbage.pt").write_bytes(b"not a zip file")
    with pytest.raises(BackendUnavailableError, match="cannot read"):
        load_network(tmp_path / "garbage.pt")
