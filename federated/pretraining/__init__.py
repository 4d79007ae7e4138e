"""Federated self-supervised pretraining of foundation models across sites' unlabelled corpora.

Each site streams its own corpus through the pretraining framework (:mod:`.site`); the server
averages the weights and aggregates the EMA codebooks by counts and sums (:mod:`.codebooks`),
checkpoints every round and writes a pretrained model like ``bci-app pretrain``'s
(:mod:`.server`). ``bci-app fed run --pretrain eegformer`` starts it.
"""
