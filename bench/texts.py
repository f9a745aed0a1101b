"""Texts the benchmarks speak (read by path, without the project, by raw_library.py)."""

# Four sentences, 325 characters: the size of the yardstick paragraph the
# project measures against (about 20 s of speech).
PARAGRAPH = (
    "The lighthouse keeper climbed the narrow stairs every evening, long before the "
    "sun touched the sea. He trimmed the wick, polished the great lens, and wrote the "
    "weather in a worn leather book. Ships passed in the dark without ever knowing his "
    "name. Still, he said, a light that nobody notices is a light that is doing its job."
)

_MORE = (
    "Morning came slowly over the harbour, and the fishing boats set out one by one. "
    "The keeper's daughter counted them from the gallery, writing each name in pencil. "
    "By noon the wind had turned, carrying the smell of rain across the water. "
    "Nobody in the village could remember a storm like the one that followed that night. "
)


def long_text(characters: int = 20_000) -> str:
    """A long, plain English text of about ``characters`` characters, in whole sentences."""
    parts: list[str] = []
    size = 0
    while size < characters:
        for piece in (PARAGRAPH, _MORE):
            parts.append(piece)
            size += len(piece) + 1
    return " ".join(parts)[: characters + 400].rsplit(". ", 1)[0] + "."
