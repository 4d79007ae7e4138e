"""Decoders that choose among the registered ones."""
