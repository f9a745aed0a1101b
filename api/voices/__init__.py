"""Voice packs: finding, loading and listing them."""
