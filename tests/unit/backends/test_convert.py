"""Naming: where each ONNX node's weight goes in the PyTorch network."""

from __future__ import annotations

import pytest

from api.backends.convert import StageCheck, module_path


@pytest.mark.parametrize(
    ("node", "path"),
    [
        ("/encoder/text_encoder/cnn.0/cnn.0.0/Conv_quant", "text_encoder.cnn.0.0"),
        ("/encoder/text_encoder/lstm/LSTM_quant", "text_encoder.lstm"),
        ("/encoder/predictor/text_encoder/lstms.2/LSTM_quant", "predictor.text_encoder.lstms.2"),
        ("/encoder/F0.1/conv1x1/Conv_quant", "predictor.F0.1.conv1x1"),
        ("/encoder/N.2/conv2/Conv_quant", "predictor.N.2.conv2"),
        ("/encoder/F0_proj/Conv_quant", "predictor.F0_proj"),
        ("/encoder/shared/LSTM_quant", "predictor.shared"),
        ("/encoder/bert_encoder/MatMul_quant", "bert_encoder"),
        (
            "/encoder/bert/encoder/albert_layer_groups.0/albert_layers.0/attention/query_1/MatMul_quant",
            "bert.encoder.albert_layer_groups.0.albert_layers.0.attention.query",
        ),
        ("/decoder/decoder/encode/conv1/Conv_quant", "decoder.encode.conv1"),
        ("/decoder/decoder/generator/ups.0/ConvTranspose", "decoder.generator.ups.0"),
        ("/decoder/decoder/asr_res/asr_res.0/Conv_quant", "decoder.asr_res.0"),
    ],
)
def test_module_path_of_a_node(node: str, path: str) -> None:
    assert module_path(node) == path


def test_a_stage_check_passes_at_its_limit_and_fails_below() -> None:
    assert StageCheck("pitch", "correlation", 0.995, 0.995).ok
    failed = StageCheck("pitch", "correlation", 0.5, 0.995)
    assert not failed.ok
    assert "FAILED" in str(failed)
