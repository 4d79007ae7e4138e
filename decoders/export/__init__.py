"""Export of fitted decoders to ONNX for the live path: graphs, metadata, parity, int8.

Import the submodule you need: :mod:`~decoders.export.onnx_export` (export with parity),
:mod:`~decoders.export.quantize` (dynamic int8), :mod:`~decoders.export.parity` (the checks).
"""
