"""Du-IN (Zheng et al., NeurIPS 2024): discrete neural units learnt from intracranial recordings.

A per-subject linear layer mixes a subject's contacts into a fixed number of virtual channels,
a spatial-fusion convolutional tokenizer turns each 100 ms of them into a token, and a
Transformer encodes the tokens (:mod:`.network`). Pretraining (:mod:`.pretraining`, on the
shared framework :mod:`decoders.pretraining`) has two stages: a VQ-VAE that quantises the
encoded tokens with a cosine codebook and reconstructs the signal, then masked modelling
that predicts the codes of masked tokens. The ``duin`` decoder (:mod:`.classifier`) fine-tunes
the encoder for one patient, with that patient's layer from pretraining or a new one.
"""
