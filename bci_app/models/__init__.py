"""Exported models: their file format and the registry of verified versions (no torch).

:mod:`bci_app.models.format` is the .onnx format (metadata, card, ONNX Runtime settings),
:mod:`bci_app.models.registry` the directory of versions with its sha256 manifest. Both sit
below every room: the live path reads them, and the decoders' export
(:mod:`decoders.export.publish`) writes into them.
"""
