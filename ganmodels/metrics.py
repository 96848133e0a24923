"""Image and sample metrics, one implementation each (PSNR, SSIM, Fréchet distance, …)."""
from __future__ import annotations
