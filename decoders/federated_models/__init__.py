"""Decoders whose module splits into site-local layers and a shared trunk, for federated training.

:mod:`~decoders.federated_models.split` holds the contract (:class:`SplitDecoder`),
:mod:`~decoders.federated_models.fleeg` the FLEEG-style personalised network.
"""
