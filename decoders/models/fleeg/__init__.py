"""Decoders whose module splits into site-local layers and a shared trunk, for federated training.

:mod:`~decoders.split` holds the contract (:class:`SplitDecoder`),
:mod:`~decoders.models.fleeg.fleeg` the FLEEG-style personalised network.
"""
