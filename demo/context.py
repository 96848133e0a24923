"""``AppContext``: what ``app.py`` loaded and decided, handed to every tab's ``build(ctx)``.

One explicit object instead of settings hidden in the models dict or in environment
variables: a tab reads the models it needs, the device, the weight store (for the
manifest's measured numbers), how many heavy jobs may run at once, and the folders
(``--data-dir``) it may read data from.  What a tab creates that must be stopped at
shutdown (the live training run, its drawing process) is kept here too, so that
``close()`` can stop it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ganmodels.training.live import Trainer
    from ganmodels.weights import WeightStore


@dataclass
class AppContext:
    models: dict[str, Any] = field(default_factory=dict)     # name (ganmodels.MODELS) → loaded model
    errors: dict[str, str] = field(default_factory=dict)     # name → why it could not be loaded
    device: str = "cpu"
    store: WeightStore | None = None     # where the weights came from; its manifest holds measured metrics
    heavy_limit: int = 2                 # heavy jobs (inpainting, CycleGAN, SR) running at once (--concurrency)
    data_dirs: tuple[Path, ...] = ()     # --data-dir folders: the only places data is read from by name
    max_pixels: int = 50_000_000         # --max-pixels: an image with more is refused from its header
    trainer: Trainer | None = None       # the shared (lecturer's) live run (the training tab creates it if None)
    training_views: Any = None           # its pictures (demo.training.Views), drawn in a helper process
    # Live training for a class (docs/DEPLOY.md): who may drive the shared run, and the private runs
    lecturer_key: str | None = None      # --lecturer-key: whoever enters it in the tab drives the shared run
    everyone_lecturer: bool = True       # no key on this machine only: every session drives the shared run
    max_private_runs: int = 40           # --max-private-runs: private 2-D runs at once (one per session)
    run_idle_s: float = 600.0            # --run-idle-minutes × 60: a private run nobody polls is closed after it
    toy_threads: int = 1                 # --toy-threads: threads that train all private runs, round-robin
    toy_batch: bool = True               # --toy-batch: runs that share settings train as one batched computation
    training_runs: Any = None            # the private runs (ganmodels.training.classroom.PrivateRuns)

    def __post_init__(self):
        self.data_dirs = tuple(Path(d).resolve() for d in self.data_dirs)

    def data_file(self, relative: str) -> Path | None:
        """The first ``--data-dir`` folder's ``relative`` file that exists, or None."""
        for d in self.data_dirs:
            p = d / relative
            if p.is_file():
                return p
        return None

    def close(self) -> None:
        """Stop what runs in the background: the live trainer, its drawing process, any model's threads."""
        for obj in (self.training_views, self.training_runs, self.trainer, *self.models.values()):
            stop = getattr(obj, "close", None)
            if callable(stop):
                stop()
