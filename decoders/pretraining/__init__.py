"""Self-supervised pretraining of foundation models on unlabelled recordings.

The machinery every foundation model shares: corpora scanned into an index
(:mod:`.corpus`) and streamed as fixed-length sequences with bounded memory
(:mod:`.segments`), vector quantisation (:mod:`.vq`), the pretraining loop on one process
or many (:mod:`.trainer`, :mod:`.distributed`), its files (:mod:`.checkpoint`), the models
it knows (:mod:`.registry`, :mod:`.model`) and one run from sources to a pretrained model
(:mod:`.run`, used by ``bci-app pretrain`` and ``torchrun``).
"""
