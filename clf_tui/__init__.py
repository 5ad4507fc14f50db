"""clf-tui: a terminal trainer for classification with PyTorch."""

__version__ = "0.1.0"
