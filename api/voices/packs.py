"""Voice packs: the arrays Kokoro takes as a voice, and their validation.

A Kokoro voice is a *pack*: a (510, 1, 256) float32 array holding one style
vector per input length; a chunk of n token ids is spoken with row n - 1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PACK_SHAPE = (510, 1, 256)

VoicePack = npt.NDArray[np.float32]
"""(510, 1, 256) float32: one style vector per chunk length."""
StyleVector = npt.NDArray[np.float32]
"""(1, 256) float32: the style row the model takes for one chunk."""


class VoiceError(ValueError):
    """A voice pack file is unusable; the message names the file."""


def validate_pack(array: npt.NDArray[np.generic], origin: str) -> VoicePack:
    """Return ``array`` as a float32 pack, or raise ``VoiceError`` naming ``origin``."""
    if array.shape == (PACK_SHAPE[0], PACK_SHAPE[2]):
        array = array.reshape(PACK_SHAPE)
    if array.shape != PACK_SHAPE:
        raise VoiceError(f"{origin}: voice pack has shape {array.shape}, expected {PACK_SHAPE}")
    if not np.issubdtype(array.dtype, np.floating):
        raise VoiceError(f"{origin}: voice pack has dtype {array.dtype}, expected float32")
    pack = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(pack).all():
        raise VoiceError(f"{origin}: voice pack holds NaN or infinite values")
    return pack
