"""kokoro-server: an OpenAI-compatible text-to-speech server around Kokoro-82M."""

__version__ = "0.1.0"
