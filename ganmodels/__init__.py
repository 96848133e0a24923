"""GAN Classroom's model package: networks, objectives, one training loop, inpainting, weights I/O.

Never imports gradio.  ``MODELS`` maps a model name to its ``load(weights_dir, device, store=)``.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"


def _lazy(module: str, fn: str = "load"):
    """``load`` (or ``fn``) of ``ganmodels.<module>`` (e.g. "models.dcgan"), imported on the first call:
    importing the package stays cheap, and a family's heavy imports happen only when it is used."""
    def load(*args, **kwargs):
        return getattr(importlib.import_module(f"ganmodels.{module}"), fn)(*args, **kwargs)
    load.__name__ = f"{module}.{fn}"
    return load


MODELS = {
    "dcgan": _lazy("models.dcgan"),
    "classifier": _lazy("models.classifier"),
    "masked_reader": _lazy("models.masked_reader"),
    "infogan": _lazy("models.infogan"),
    "cgan": _lazy("models.cgan"),
    "cyclegan": _lazy("models.cyclegan"),
    "srgan": _lazy("models.srgan"),
    "faces": _lazy("models.faces"),
    "face_classifier": _lazy("models.face_classifier"),
    "face_attributes": _lazy("inference.face_attributes"),
    "pix2pix_l1": _lazy("models.pix2pix", "load_l1"),
    "pix2pix": _lazy("models.pix2pix"),
}
