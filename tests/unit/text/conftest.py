"""What the text tests share: the model's phoneme vocabulary and one G2P."""

from __future__ import annotations

import pytest

from api.text.chunks import Vocabulary
from api.text.g2p import EspeakG2P
from api.weights import ModelFiles


@pytest.fixture(scope="module")
def vocab(model_files: ModelFiles) -> Vocabulary:
    return Vocabulary.load(model_files.vocab)


@pytest.fixture(scope="module")
def g2p() -> EspeakG2P:
    return EspeakG2P()
