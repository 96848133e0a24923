"""Training recipes: command-line arguments → a :class:`ganmodels.training.loop.Run`.

One module per family, each with ``DEFAULT_STEPS``, ``add_args(parser)`` and
``make_run(args)``.  Only the command line (``ganmodels.cli.train``) imports them.
"""
from __future__ import annotations

import importlib

# model name → the module that holds its recipe
RECIPES = {
    "classifier": "classifier",
    "masked_reader": "masked_reader",
    "dcgan": "dcgan",
    "faces": "faces",
    "face_classifier": "face_classifier",
    "infogan": "infogan",
    "cgan": "cgan",
    "cyclegan": "cyclegan",
    "srresnet": "srgan",
    "srgan": "srgan",
    "pix2pix": "pix2pix",
}


def get(name: str):
    """The recipe module of model ``name`` (KeyError for an unknown name)."""
    return importlib.import_module(f"ganmodels.recipes.{RECIPES[name]}")
