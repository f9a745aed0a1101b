"""HTTP and WebSocket routes: thin handlers that validate, delegate and render."""
