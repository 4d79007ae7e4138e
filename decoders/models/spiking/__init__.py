"""Spiking decoders: a leaky integrate-and-fire network and a SpikeGPT-style spiking RWKV.

Both are plain torch, trained with surrogate gradients, and export to ONNX: in evaluation
mode a spike is ``(v > threshold)`` (Greater + Cast), and the surrogate only exists while
training. Each offers a streaming step with explicit state and counts its synaptic operations
(:mod:`decoders.models.spiking.synops`).
"""
