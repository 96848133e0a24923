"""Measuring shipped weights: one ``evaluate(args) -> {"files": [...], "metrics": {...}}`` per model.

``python -m ganmodels.evaluate`` (``ganmodels.cli.evaluate``) runs them and writes the
numbers into the manifest; nothing here parses arguments or exits the process.
"""
from __future__ import annotations

import importlib

# model → (module in ganmodels, function)
EVALUATORS = {
    "classifier": ("evaluation.digits", "evaluate_classifier"),
    "dcgan": ("evaluation.digits", "evaluate_dcgan"),
    "infogan": ("evaluation.infogan", "evaluate"),
    "cgan": ("evaluation.cgan", "evaluate"),
    "cyclegan": ("evaluation.cyclegan", "evaluate"),
    "srgan": ("evaluation.srgan", "evaluate"),
    "masked_reader": ("evaluation.digits", "evaluate_masked_reader"),
    "face_classifier": ("evaluation.faces", "evaluate_classifier"),
    "faces": ("evaluation.faces", "evaluate"),
    "pix2pix": ("evaluation.pix2pix", "evaluate"),
    "toy_state": ("evaluation.toy_state", "evaluate"),
}


def get(model: str):
    """The evaluate function of ``model`` (KeyError for an unknown name)."""
    module, fn = EVALUATORS[model]
    return getattr(importlib.import_module(f"ganmodels.{module}"), fn)
