"""The decoder panel: a registered model, its card, channel mapping, and its live output."""
