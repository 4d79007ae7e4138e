"""The model registry: exported .onnx files, a manifest of their sha256, versions by name.

See :mod:`bci_app.models.registry` (no torch) and :mod:`bci_app.models.publish` (export a
fitted decoder and register it; needs torch, off the live path).
"""
