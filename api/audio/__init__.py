"""Audio encoding for the HTTP responses."""
