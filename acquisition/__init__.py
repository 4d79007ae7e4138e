"""Acquisition: LSL inlets and outlets, ring buffers, causal filters, quality, recording.

Imports nothing of the other bci-app packages. Import the submodule you need.
"""
