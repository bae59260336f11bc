"""tunekit_worker: the PyTorch half of tunekit (models, LoRA, generation, training).

Needs only PyTorch (>= 1.13) and the standard library.
"""

__version__ = "0.1.0"
