"""The timed model: the same graph with the predicted durations as an output."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from api.backends.graph import (
    DURATIONS_OUTPUT,
    GraphError,
    add_duration_output,
    find_duration_tensor,
)
from api.weights import ModelFiles


@pytest.fixture(scope="module")
def graphs(model_files: ModelFiles) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    return onnx.load(str(model_files.model)), onnx.load(str(model_files.timed_model))


def test_the_duration_tensor_is_the_cast_after_round_and_clip(
    graphs: tuple[onnx.ModelProto, onnx.ModelProto],
) -> None:
    plain, _ = graphs
    assert find_duration_tensor(plain.graph) == "/encoder/Cast_output_0"


def test_only_an_identity_and_an_output_are_added(
    graphs: tuple[onnx.ModelProto, onnx.ModelProto],
) -> None:
    plain, timed = graphs
    assert list(timed.graph.node)[: len(plain.graph.node)] == list(plain.graph.node)
    (added,) = list(timed.graph.node)[len(plain.graph.node) :]
    assert (added.op_type, list(added.input), list(added.output)) == (
        "Identity",
        ["/encoder/Cast_output_0"],
        [DURATIONS_OUTPUT],
    )
    assert [o.name for o in timed.graph.output] == ["audio", DURATIONS_OUTPUT]
    assert timed.graph.output[1].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert list(timed.graph.input) == list(plain.graph.input)


def test_weights_are_bit_identical(graphs: tuple[onnx.ModelProto, onnx.ModelProto]) -> None:
    plain, timed = graphs
    assert len(timed.graph.initializer) == len(plain.graph.initializer)
    for before, after in zip(plain.graph.initializer, timed.graph.initializer, strict=True):
        assert before.SerializeToString() == after.SerializeToString(), before.name


def test_a_timed_model_is_refused_as_a_source(model_files: ModelFiles, tmp_path: Path) -> None:
    with pytest.raises(GraphError, match="already has an output"):
        add_duration_output(model_files.timed_model, tmp_path / "twice.onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_onnx_is_a_graph_error(tmp_path: Path) -> None:
    source = tmp_path / "model.onnx"
    source.write_bytes(b"tiny model")
    with pytest.raises(GraphError, match="not a readable ONNX model"):
        add_duration_output(source, tmp_path / "timed.onnx")


def test_a_graph_without_a_speed_division_is_a_graph_error() -> None:
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["x"], ["y"])],
        "tiny",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    with pytest.raises(GraphError, match="Div by the input 'speed'"):
        find_duration_tensor(graph)
