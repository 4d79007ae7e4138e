"""Causal, stateful online preprocessing: the same code runs live chunk by chunk and offline.

Build a :class:`~acquisition.preprocessing.pipeline.Pipeline` from a JSON-able spec (as a
decoder's card declares it) and feed it chunks; the result equals processing the whole
recording at once with the same causal filters.
"""
