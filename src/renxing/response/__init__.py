"""Operating modes of a community: normal, alert, emergency, recovery (平急转换)."""
