"""Texts the benchmarks speak."""

# Four sentences, 325 characters: the size of the yardstick paragraph the
# project measures against (about 20 s of speech).
PARAGRAPH = (
    "The lighthouse keeper climbed the narrow stairs every evening, long before the "
    "sun touched the sea. He trimmed the wick, polished the great lens, and wrote the "
    "weather in a worn leather book. Ships passed in the dark without ever knowing his "
    "name. Still, he said, a light that nobody notices is a light that is doing its job."
)
