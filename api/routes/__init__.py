"""HTTP routes: thin handlers that validate, delegate and render."""
