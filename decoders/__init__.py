"""Decoders: models, training, datasets, simulators, evaluation and export.

Nothing is imported eagerly: import the submodule you need.
"""
