"""The evaluation harness: split protocols, a sealed test split, metrics and result records."""
