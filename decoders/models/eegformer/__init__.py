"""EEGFormer (Chen et al. 2024): a vector-quantised Transformer pretrained on unlabelled EEG.

Each channel is encoded on its own: its segment is cut into patches whose log amplitude
spectra are the tokens (:mod:`.spectra`), a Transformer encodes them, a codebook quantises
them and a Transformer decoder reconstructs the spectra (:mod:`.backbone`). Pretraining is
:mod:`.pretraining` on the shared framework (:mod:`decoders.pretraining`); fine-tuning is the
``eegformer`` decoder (:mod:`.classifier`); the codes explain its decisions
(:mod:`.interpret`) and the reconstruction error flags abnormal recordings (:mod:`.anomaly`).
"""
