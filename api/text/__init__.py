"""Text to token ids: sentence splitting, grapheme-to-phoneme, chunking."""
