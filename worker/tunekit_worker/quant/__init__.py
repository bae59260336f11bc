"""Quantized frozen base weights for QLoRA (nf4.py)."""

from .nf4 import (NF4_CODE, NF4Linear, NF4Weight, dequantize_nf4, quantize_model_projections, quantize_nf4)

__all__ = ["NF4_CODE", "NF4Linear", "NF4Weight", "dequantize_nf4", "quantize_model_projections", "quantize_nf4"]
