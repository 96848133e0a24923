"""Images in and out, one helper per job: PIL/uint8 ↔ tensors, checked uploads and files, grids, GIFs."""
from __future__ import annotations
