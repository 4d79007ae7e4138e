"""Flower entry points of bci-app's federated training (the work is in ``federated``)."""
