"""Chunk plans the benches use besides the server's own."""

from api.text.chunks import ChunkSchedule


def sentence_packing() -> ChunkSchedule:
    """The complete-file chunk plan before issue 16 (whole sentences packed up to 150
    ids from the first chunk on): the benches of the model's own cost keep measuring
    the same inputs as their recorded figures."""
    return ChunkSchedule(first_tokens=150, first_clause_max=150, growth=1.0, max_tokens=150)
