"""bci-app: from a brain signal to a decision, live; configuration, CLI and the live path."""

__version__ = "0.1.0"
