"""MEG-GPT (Huang et al. 2025): a data-driven tokeniser and a causal Transformer for MEG/EEG.

Stage 1 (:mod:`.tokeniser`) turns every sample of each channel's standardised time course into
one of a few learnt tokens; stage 2 (:mod:`.transformer`) predicts each channel's next token from
the past of every channel. Both stages run on the shared pretraining framework
(:mod:`.pretraining`); the ``meg-gpt`` decoder (:mod:`.classifier`) fine-tunes the Transformer on
labelled windows, :mod:`.generation` samples synthetic data and compares its spectra with real
ones, :mod:`.zero_shot` reads features from a frozen pretrained model.
"""
