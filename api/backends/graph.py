"""Expose the model's predicted durations as a second output of the ONNX graph.

Kokoro predicts how many frames each token lasts and expands the text features
by those counts before the decoder; the exported graph keeps them internal and
returns only ``audio``. A copy of the graph with the integer durations as an
extra output gives word timestamps from the model's own alignment, at no
inference cost: the tensor is computed anyway.

How the tensor was found (``kokoro-v1.0.int8.onnx``, nodes in graph order)::

    /encoder/predictor/duration_proj/linear_layer/Add   duration logits [1, n, 50]
    /encoder/predictor/Sigmoid
    /encoder/predictor/ReduceSum                        sum over the 50 bins -> [1, n]
    /encoder/Div         (input ``speed``)              / speed
    /encoder/Round
    /encoder/Clip        (min 1.0)                      at least one frame per token
    /encoder/Cast        (to int64)                     <- the durations, [1, n]
    /encoder/Gather, /encoder/CumSum, /encoder/Range    the alignment matrix built from them

That is ``pred_dur = round(sigmoid(logits).sum(-1) / speed).clamp(min=1)`` of
KModel. The search below follows that chain by op types and data flow (a Div
fed by the graph input ``speed``, then Round, Clip, Cast to int64), not by
node names, so a re-export that renames nodes still works; it fails loudly if
the chain is not there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    import onnx

DURATIONS_OUTPUT = "durations"
"""Name of the added output: int64 [1, n + 2], frames per token, pads included."""


class GraphError(RuntimeError):
    """The ONNX graph does not have the shape this module expects."""


def _single_consumer(graph: onnx.GraphProto, tensor: str, op_type: str) -> onnx.NodeProto:
    consumers = [node for node in graph.node if tensor in node.input and node.op_type == op_type]
    if len(consumers) != 1:
        raise GraphError(f"expected one {op_type} reading {tensor}, found {len(consumers)}")
    node: onnx.NodeProto = consumers[0]
    return node


def find_duration_tensor(graph: onnx.GraphProto) -> str:
    """Name of the int64 per-token duration tensor (frames, shape [1, n])."""
    import onnx  # noqa: PLC0415 - only needed when the timed model is made

    divs = [node for node in graph.node if node.op_type == "Div" and "speed" in node.input[1:]]
    if len(divs) != 1:
        raise GraphError(f"expected one Div by the input 'speed', found {len(divs)}")
    rounded = _single_consumer(graph, divs[0].output[0], "Round")
    clipped = _single_consumer(graph, rounded.output[0], "Clip")
    cast = _single_consumer(graph, clipped.output[0], "Cast")
    to = next((attr.i for attr in cast.attribute if attr.name == "to"), None)
    if to != onnx.TensorProto.INT64:
        raise GraphError(f"{cast.name} casts the durations to type {to}, not int64")
    return str(cast.output[0])


def add_duration_output(source: Path, target: Path) -> None:
    """Write ``target``: the model at ``source`` with a second output, ``durations``.

    Only one Identity node and one graph output are added; every initializer
    and every existing node stays as it was, so ``audio`` is unchanged for the
    same inputs. ``target`` is written atomically.
    """
    import onnx  # noqa: PLC0415 - a build-time step, kept off the server's import path

    from api.fileio import atomic_write  # noqa: PLC0415 - keeps this module import-light

    try:
        model = onnx.load(str(source))
    except OSError:
        raise
    except Exception as e:  # protobuf's DecodeError and friends: not an ONNX file
        raise GraphError(f"{source} is not a readable ONNX model: {e}") from e
    graph = model.graph
    if any(output.name == DURATIONS_OUTPUT for output in graph.output):
        raise GraphError(f"{source} already has an output named {DURATIONS_OUTPUT!r}")
    durations = find_duration_tensor(graph)
    # An Identity gives the output a stable name without renaming the tensor
    # inside the graph (the alignment nodes keep reading the original name).
    graph.node.append(
        onnx.helper.make_node("Identity", [durations], [DURATIONS_OUTPUT], name="/timing/durations")
    )
    graph.output.append(
        onnx.helper.make_tensor_value_info(
            DURATIONS_OUTPUT, onnx.TensorProto.INT64, [1, "tokens_padded"]
        )
    )
    data = model.SerializeToString()

    def write(handle: BinaryIO) -> None:
        handle.write(data)

    atomic_write(target, write)
