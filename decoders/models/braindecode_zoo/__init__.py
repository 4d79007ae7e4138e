"""braindecode models as decoders: the zoo, its catalog and pretrained starts."""
