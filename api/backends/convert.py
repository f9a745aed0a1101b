"""Rebuild a PyTorch state dict from the bundled int8 ONNX model.

The ONNX file holds every weight of Kokoro-82M, most of them quantized to 8
bits. ``onnx_state_dict`` dequantizes them and maps each onto the parameter of
``api.backends.network.KokoroNetwork`` it belongs to; ``verify`` runs both
models on the same input and compares them stage by stage. How the file stores
the weights (names, layouts, zero points, gate orders) is summed up in each
helper below.

Needs only numpy and onnx, so the mapping is testable without torch; loading
the result needs torch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import onnx
from onnx import numpy_helper

from api.backends.base import BackendUnavailableError

if TYPE_CHECKING:
    from api.backends.network import KokoroNetwork
    from api.weights import ModelFiles

Array = npt.NDArray[np.float32]

# Gate blocks: ONNX orders an LSTM's gates i, o, f, c; PyTorch i, f, g(c), o.
_LSTM_GATES = (0, 2, 3, 1)
# The export's own inverse STFT (a convolution with a fixed basis) is not a
# weight of the network; ``network.Spectral`` computes it.
_NOT_WEIGHTS = ("istft.",)
_SUFFIX_RE = re.compile(r"_\d+$")


class ConversionError(BackendUnavailableError):
    """The ONNX model does not hold the weights this network expects."""


@dataclass(frozen=True)
class _Graph:
    inits: dict[str, onnx.TensorProto]
    consumers: dict[str, list[onnx.NodeProto]]
    producers: dict[str, onnx.NodeProto]

    @classmethod
    def of(cls, model: onnx.ModelProto) -> _Graph:
        consumers: dict[str, list[onnx.NodeProto]] = {}
        producers: dict[str, onnx.NodeProto] = {}
        for node in model.graph.node:
            for name in node.input:
                consumers.setdefault(name, []).append(node)
            for name in node.output:
                producers[name] = node
        return cls({i.name: i for i in model.graph.initializer}, consumers, producers)

    def array(self, name: str) -> npt.NDArray[np.generic]:
        return numpy_helper.to_array(self.inits[name])


def module_path(node_name: str) -> str:
    """The network's module path for an ONNX node name.

    ``/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant`` -> ``text_encoder.cnn.0.0``:
    the first segment (encoder/decoder) and the op name go, a segment that
    extends the previous one replaces it, repeat suffixes (``query_1``) go, and
    the predictor's blocks the exporter hoisted (``F0.*``, ``N.*``, ``shared``,
    ``*_proj``) get their ``predictor`` level back.
    """
    segments = [s for s in node_name.split("/") if s][1:-1]
    path: list[str] = []
    for raw in segments:
        segment = _SUFFIX_RE.sub("", raw)
        if path and segment.startswith(path[-1] + "."):
            path[-1] = segment
        else:
            path.append(segment)
    if path and re.fullmatch(r"(F0|N)(\.\d+|_proj)?|shared", path[0]):
        path.insert(0, "predictor")
    return ".".join(path)


def _zero_point(graph: _Graph, node: onnx.NodeProto, index: int) -> npt.NDArray[np.float32]:
    # Equal zero points were merged into one initializer, so its name says
    # nothing; the consuming node's input is the one that applies.
    return graph.array(node.input[index]).astype(np.float32)


def _dequantize(graph: _Graph, weight: str, zero_point: npt.NDArray[np.float32]) -> Array:
    scale_name = weight.removesuffix("_quantized") + "_scale"
    scale = graph.array(scale_name).astype(np.float32)
    q = graph.array(weight).astype(np.float32)
    return ((q - zero_point) * scale).astype(np.float32)


def _lstm(graph: _Graph, node: onnx.NodeProto) -> Iterator[tuple[str, Array]]:
    """DynamicQuantizeLSTM: W [dir, in, 4H], R [dir, H, 4H], B [dir, 8H]."""
    w_scale = graph.array(node.input[8]).astype(np.float32)
    r_scale = graph.array(node.input[10]).astype(np.float32)
    w = graph.array(node.input[1]).astype(np.float32) - _zero_point(graph, node, 9)[:, None, None]
    r = graph.array(node.input[2]).astype(np.float32) - _zero_point(graph, node, 11)[:, None, None]
    w = w * w_scale[:, None, None]
    r = r * r_scale[:, None, None]
    bias = graph.array(node.input[3]).astype(np.float32)
    hidden = r.shape[1]

    def gates(m: npt.NDArray[np.float32]) -> Array:
        blocks = np.split(m, 4, axis=0)
        return np.concatenate([blocks[i] for i in _LSTM_GATES], axis=0).astype(np.float32)

    prefix = module_path(node.name)
    for direction, suffix in enumerate(("", "_reverse")):
        yield f"{prefix}.weight_ih_l0{suffix}", gates(w[direction].T)
        yield f"{prefix}.weight_hh_l0{suffix}", gates(r[direction].T)
        yield f"{prefix}.bias_ih_l0{suffix}", gates(bias[direction, : 4 * hidden])
        yield f"{prefix}.bias_hh_l0{suffix}", gates(bias[direction, 4 * hidden :])


def _node_weights(graph: _Graph, node: onnx.NodeProto) -> Iterator[tuple[str, Array]]:
    """The weight a compute node consumes, under the module path of the node."""
    op = node.op_type
    if op == "DynamicQuantizeLSTM":
        yield from _lstm(graph, node)
        return
    if op in ("MatMulInteger", "ConvInteger"):
        weight = node.input[1]
        if weight not in graph.inits:
            return
        value = _dequantize(graph, weight, _zero_point(graph, node, 3))
    elif op in ("Conv", "ConvTranspose", "MatMul"):
        weight = node.input[1]
        if weight not in graph.inits:
            return
        value = graph.array(weight).astype(np.float32)
    else:
        return
    if op in ("MatMulInteger", "MatMul"):
        value = value.T  # stored [in, out]; nn.Linear holds [out, in]
    name = _initializer_key(weight)
    key = name if name is not None else module_path(node.name) + ".weight"
    if not any(s in key for s in _NOT_WEIGHTS):
        yield key, value


def _initializer_key(name: str) -> str | None:
    """``encoder.predictor.F0.0.conv1.bias`` -> ``predictor.F0.0.conv1.bias``.

    Initializers that carry their module path; None for the rest.
    """
    for prefix in ("encoder.", "decoder."):
        if name.startswith(prefix):
            key = name.removeprefix(prefix).removesuffix("_quantized")
            return None if any(s in key for s in _NOT_WEIGHTS) else key
    return None


def onnx_state_dict(model: onnx.ModelProto) -> dict[str, Array]:
    """Every network parameter, dequantized, keyed like ``KokoroNetwork.state_dict()``."""
    graph = _Graph.of(model)
    state: dict[str, Array] = {}
    for node in model.graph.node:
        for key, value in _node_weights(graph, node):
            state.setdefault(key, value)
        if node.op_type == "DequantizeLinear" and node.input[0] not in graph.inits:
            # Embedding tables: a Gather of the int8 table, then DequantizeLinear.
            gather = graph.producers[node.input[0]]
            table = gather.input[0]
            table_key = _initializer_key(table)
            if table_key is None:
                raise ConversionError(f"embedding table without a module path: {table}")
            state[table_key] = _dequantize(graph, table, _zero_point(graph, node, 2))
    for name in graph.inits:
        init_key = _initializer_key(name)
        if init_key is None or init_key in state or name.endswith(("_scale", "_zero_point")):
            continue
        if name.endswith(("_quantized", "_shape")):
            continue  # dequantized above through its consumer, or a reshape constant
        state[init_key] = graph.array(name).astype(np.float32)
    return state


# --- checking the converted network against the graph --------------------------------

STAGE_TENSORS = {
    "phoneme encoder (ALBERT)": (
        "/encoder/bert/encoder/albert_layer_groups.0/albert_layers.0/"
        "full_layer_layer_norm_11/LayerNormalization_output_0"
    ),
    "duration features": "/encoder/predictor/text_encoder/Concat_4_output_0",
    "durations": "/encoder/Cast_output_0",
    "text encoder": "/encoder/text_encoder/Transpose_2_output_0",
    "aligned text": "/encoder/MatMul_1_output_0",
    "pitch (F0)": "/encoder/Reshape_output_0",
    "energy (N)": "/encoder/Reshape_1_output_0",
    "audio": "audio",
}
"""Intermediate tensors of the int8 graph that mark the network's stages."""

CHECK_PHONEMES = "ðə kwˈɪk bɹˈaʊn fˈɑks dʒˈʌmps ˌoʊvɚ ðə lˈeɪzi dˈɑɡ, ænd ɪt ɹˈɛsts."
"""A sentence (misaki phonemes) both models speak for the check."""


@dataclass(frozen=True)
class StageCheck:
    """How closely one stage of the converted network follows the graph."""

    stage: str
    measure: str
    value: float
    limit: float

    @property
    def ok(self) -> bool:
        return self.value >= self.limit

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        return f"{self.stage}: {self.measure} {self.value:.4f} (limit {self.limit}) {verdict}"


def _correlation(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]) -> float:
    x = np.asarray(a, dtype=np.float64).reshape(-1)
    y = np.asarray(b, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _log_spectrum(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    frames = np.lib.stride_tricks.sliding_window_view(audio, 1024)[::256] * np.hanning(1024)
    return np.log(np.abs(np.fft.rfft(frames, axis=-1)) + 1e-5)


def graph_stages(
    model: onnx.ModelProto, tokens: npt.NDArray[np.int64], style: Array
) -> dict[str, npt.NDArray[np.generic]]:
    """The graph's stage tensors for padded ``tokens`` (1, T) and ``style`` (1, 256).

    Adds the stage tensors to ``model``'s outputs (in place: the model is 92 MB,
    and its extra outputs change none of its weights).
    """
    import onnxruntime as ort  # noqa: PLC0415 - only for the check

    present = {o.name for o in model.graph.output}
    for name in STAGE_TENSORS.values():
        if name not in present:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    feeds = {"tokens": tokens, "style": style, "speed": np.ones(1, dtype=np.float32)}
    values = session.run(list(STAGE_TENSORS.values()), feeds)
    return dict(zip(STAGE_TENSORS, values, strict=True))


def verify(
    network: KokoroNetwork, model: onnx.ModelProto, tokens: npt.NDArray[np.int64], style: Array
) -> list[StageCheck]:
    """Run the graph and ``network`` on the same input and compare every stage.

    The network gets the graph's durations, so that each later stage compares
    frame for frame; its own durations are compared separately. The limits
    leave room for the graph's 8-bit activations (about 0.996 correlation at the
    phoneme encoder, measured) but not for a misplaced weight, which drops a
    stage's correlation far lower.
    """
    import torch  # noqa: PLC0415 - the torch backend's check

    from api.backends.onnx import ONNX_OUTPUT_GAIN  # noqa: PLC0415

    ref = graph_stages(model, tokens, style)
    frames = np.asarray(ref["durations"]).reshape(-1)
    with torch.inference_mode():
        out = network.stages(
            torch.from_numpy(tokens), torch.from_numpy(style), 1.0, torch.from_numpy(frames)
        )
        decoded = network.decoder(
            torch.from_numpy(np.asarray(ref["aligned text"])),
            torch.from_numpy(np.asarray(ref["pitch (F0)"])),
            torch.from_numpy(np.asarray(ref["energy (N)"])),
            torch.from_numpy(style[:, : network.cfg.style_dim]),
        )[0]
    durations = out.durations.numpy()
    graph_audio = np.asarray(ref["audio"], dtype=np.float32) * ONNX_OUTPUT_GAIN
    ours = {
        "phoneme encoder (ALBERT)": out.bert,
        "duration features": out.d,
        "text encoder": out.t_en,
        "pitch (F0)": out.f0,
        "energy (N)": out.n,
    }
    checks = [
        StageCheck(stage, "correlation", _correlation(value.numpy(), ref[stage]), limit)
        for (stage, value), limit in zip(
            ours.items(), (0.98, 0.98, 0.995, 0.995, 0.995), strict=True
        )
    ]
    checks += [
        StageCheck("durations", "share of tokens equal", float(np.mean(durations == frames)), 0.85),
        StageCheck(
            "durations",
            "share within one frame",
            float(np.mean(np.abs(durations - frames) <= 1)),
            1.0,
        ),
        StageCheck(
            "decoder on the graph's features",
            "log-spectrum correlation",
            _correlation(_log_spectrum(decoded.numpy()), _log_spectrum(graph_audio)),
            0.97,
        ),
        StageCheck(
            "audio",
            "log-spectrum correlation",
            _correlation(_log_spectrum(out.audio.numpy()), _log_spectrum(graph_audio)),
            0.95,
        ),
        StageCheck(
            "audio",
            "loudness ratio (rms)",
            _loudness_agreement(out.audio.numpy(), graph_audio),
            0.9,
        ),
    ]
    return checks


def _loudness_agreement(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """min(rms a / rms b, rms b / rms a): 1.0 when both are equally loud."""
    ra = float(np.sqrt(np.mean(np.square(a, dtype=np.float64))))
    rb = float(np.sqrt(np.mean(np.square(b, dtype=np.float64))))
    return min(ra / rb, rb / ra) if ra > 0 and rb > 0 else 0.0


def convert_weights(files: ModelFiles) -> list[StageCheck]:
    """Convert ``files.model`` for PyTorch, check it, and save it as ``files.torch_weights``.

    Nothing is written unless every stage check passes; a failed check raises
    ``ConversionError`` with the report. Returns the checks.
    """
    import torch  # noqa: PLC0415 - the torch backend's conversion

    from api.backends.network import KokoroNetwork  # noqa: PLC0415
    from api.fileio import atomic_write  # noqa: PLC0415
    from api.text.chunks import Vocabulary  # noqa: PLC0415
    from api.voices.official import official_voices  # noqa: PLC0415

    # Half precision on disk: rounding to fp16 moves a weight by at most 0.05%,
    # a small fraction of the 8-bit quantization step the weights already went
    # through, and halves the file (about 160 MB). The check runs on what is saved.
    graph = onnx.load(str(files.model))
    state = {k: torch.from_numpy(v).half() for k, v in onnx_state_dict(graph).items()}
    network = KokoroNetwork()
    try:
        network.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except RuntimeError as e:
        raise ConversionError(f"{files.model} does not fit the network: {e}") from e
    network.eval()
    ids = Vocabulary.load(files.vocab).encode(CHECK_PHONEMES)
    pack = official_voices()["jf_alpha"].open()
    style = np.asarray(pack[len(ids) - 1], dtype=np.float32).reshape(1, 256)
    tokens = np.array([[0, *ids, 0]], dtype=np.int64)
    checks = verify(network, graph, tokens, style)
    if not all(check.ok for check in checks):
        report = "; ".join(str(check) for check in checks if not check.ok)
        raise ConversionError(f"the converted weights do not match {files.model.name}: {report}")
    atomic_write(files.torch_weights, lambda handle: torch.save(state, handle))
    return checks
