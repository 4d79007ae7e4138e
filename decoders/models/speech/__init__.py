"""Speech decoding: the contrastive brain module (after Défossez et al. 2023), under BSD-3."""
