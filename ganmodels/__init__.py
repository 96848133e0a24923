"""GAN Classroom's model package: networks, objectives, one training loop, inpainting, weights I/O.

Never imports gradio.  ``MODELS`` maps a model name to its ``load(weights_dir, device, store=)``.
"""
from __future__ import annotations

__version__ = "0.1.0"


def _lazy(module: str):
    def load(*args, **kwargs):
        import importlib
        return importlib.import_module(f"ganmodels.{module}").load(*args, **kwargs)
    load.__name__ = f"{module}.load"
    return load


MODELS = {
    "dcgan": _lazy("dcgan"),
    "classifier": _lazy("classifier"),
    "infogan": _lazy("infogan"),
    "cgan": _lazy("cgan"),
    "cyclegan": _lazy("cyclegan"),
    "srgan": _lazy("srgan"),
}
