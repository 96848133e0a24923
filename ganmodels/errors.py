"""The package's exceptions.  Library code raises these; only ``ganmodels.cli`` turns them into
a message and an exit code, and the app shows them to the student."""
from __future__ import annotations


class GanModelsError(Exception):
    """Base of every error the package raises on purpose (bad input, missing files, refused settings)."""


class InputError(GanModelsError, ValueError):
    """An input the caller gave is unusable: the message says what is wrong and what is expected."""


class DataError(GanModelsError):
    """Training or evaluation data is missing or unreadable."""


class EvaluationError(GanModelsError):
    """An evaluation cannot run (its data is missing)."""
