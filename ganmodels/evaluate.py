"""``python -m ganmodels.evaluate <model> [--json] [--update-manifest]``: measure shipped weights.

``python -m ganmodels.evaluate table [README.md]`` prints (or writes into the README, between its
``<!-- WEIGHTS -->`` markers) the manifest's headline numbers as a Markdown table.

The numbers in ``weights/manifest.json`` come only from here (``--update-manifest``
writes them into the entries of the files that were measured).

Digit models are judged with the project's MNIST classifier: its accuracy on the
MNIST test digits, the share of confidently classified samples, the class shares
and **classifier-FID** (the Fréchet distance on the classifier's penultimate
features; not Inception FID).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import weights as W

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MNIST_TEST = ROOT.parent / "shared" / "data" / "mnist" / "mnist_test_first5000.npz"
DEFAULT_SHARED = ROOT.parent / "shared" / "data"


def mnist_test(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    p = Path(path or DEFAULT_MNIST_TEST)
    if not p.is_file():
        raise SystemExit(f"MNIST test digits not found at {p}: pass --mnist-test PATH "
                         "(an npz with uint8 'images' (N,28,28) and 'labels')")
    with np.load(p, allow_pickle=False) as f:
        return f["images"], f["labels"].astype(np.int64)


def eval_classifier(args) -> dict:
    from . import classifier as C

    net = C.load(args.weights, args.device)
    X, y = mnist_test(args.mnist_test)
    probs, _ = C.predict(net, X)
    return {"files": [C.FILE],
            "metrics": {"test_accuracy": round(float((probs.argmax(1) == y).mean()), 4),
                        "test_set": "MNIST t10k, first 5,000 digits", "n": int(len(y))}}


def digit_sample_metrics(images: np.ndarray, net, X_test: np.ndarray, X_train: np.ndarray | None = None,
                         fid_n: int = 5000) -> dict:
    """Confidence/class shares on the first 1,000 samples; classifier-FID of up to ``fid_n`` samples."""
    from . import classifier as C

    probs, feats = C.predict(net, images)
    q = C.sample_quality(probs[:1000])
    _, f_test = C.predict(net, X_test[:fid_n])
    out = {"n_samples_quality": int(min(1000, len(images))), **q,
           "classifier_fid_to_test": round(C.frechet_distance(feats[:fid_n], f_test), 3),
           "n_fid": int(min(fid_n, len(images), len(X_test)))}
    if X_train is not None:
        _, f_train = C.predict(net, X_train[:fid_n])
        out["classifier_fid_floor_train_vs_test"] = round(C.frechet_distance(f_train, f_test), 3)
    return out


def eval_dcgan(args) -> dict:
    from . import classifier as C
    from . import data, dcgan

    model = dcgan.load(args.weights, args.device)
    net = C.load(args.weights, args.device)
    X_test, _ = mnist_test(args.mnist_test)
    X_train, _ = data.mnist_digits()
    g = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.n, model.z_dim, generator=g)
    imgs = np.concatenate([data.to_uint8(model.generate(z[i:i + 500])) for i in range(0, len(z), 500)])
    m = digit_sample_metrics(imgs, net, X_test, X_train)
    m.update(seed=args.seed, sampling="z ~ N(0, I), no truncation, EMA generator",
             metric_note="classifier-FID uses the project's MNIST classifier features, not Inception")
    return {"files": list(dcgan.FILES.values()), "metrics": m}


def _delegate(module: str):
    def run(args):
        import importlib
        return importlib.import_module(f"ganmodels.{module}").evaluate(args)
    return run


EVALUATORS = {
    "classifier": eval_classifier,
    "dcgan": eval_dcgan,
    "infogan": _delegate("infogan"),
    "cgan": _delegate("cgan"),
    "cyclegan": _delegate("cyclegan"),
    "srgan": _delegate("srgan"),
}


# the headline numbers of each family, in this order, for the README's table
HEADLINE = {
    "classifier": ["test_accuracy"],
    "dcgan": ["confident_share", "min_class_share", "max_class_share", "classifier_fid_to_test",
              "classifier_fid_floor_train_vs_test"],
    "infogan": ["categorical_matching_accuracy", "confident_share"],
    "cgan": ["classifier_agreement", "confident_share"],
    "cyclegan": ["photo2monet_called_monet", "monet2photo_called_photo", "judge_heldout_accuracy", "cycle_psnr_db"],
    "srgan": ["srresnet_gain_db", "srgan_gain_db", "srgan_sharper_than_srresnet"],
}
TABLE_START, TABLE_END = "<!-- WEIGHTS -->", "<!-- /WEIGHTS -->"


def manifest_table(weights_dir=W.DEFAULT_DIR) -> str:
    """A Markdown table of every shipped file: steps and the headline metrics from the manifest."""
    rows = ["| file | steps | measured by `python -m ganmodels.evaluate` |", "|---|---|---|"]
    for name, e in W.read_manifest(weights_dir)["files"].items():
        cells = []
        for fam, m in (e.get("metrics") or {}).items():
            vals = [f"{k} {m[k]}" for k in HEADLINE.get(fam, []) if k in m]
            cells.append(f"{fam}: {', '.join(vals)}" if vals else fam)
        rows.append(f"| `{name}` | {e.get('steps', '—')} | {'; '.join(cells) or '—'} |")
    return "\n".join(rows)


def update_readme_table(readme, weights_dir=W.DEFAULT_DIR) -> None:
    """Replace the table between the README's WEIGHTS markers by the manifest's (no number by hand)."""
    readme = Path(readme)
    text = readme.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{readme}: needs the markers {TABLE_START} … {TABLE_END} around the table")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    old = rest.split(TABLE_END, 1)[0]
    intro = old.split("| file |", 1)[0]          # the prose above the table stays
    readme.write_text(f"{head}{TABLE_START}{intro}{manifest_table(weights_dir)}\n{TABLE_END}{tail}")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["table"]:      # python -m ganmodels.evaluate table [README.md]: the manifest as Markdown
        if len(argv) > 1:
            update_readme_table(argv[1])
        else:
            print(manifest_table())
        return 0
    p = argparse.ArgumentParser(prog="python -m ganmodels.evaluate", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=sorted(EVALUATORS))
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--weights", default=str(W.DEFAULT_DIR))
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n", type=int, default=5000, help="samples to generate (digit models)")
    p.add_argument("--mnist-test", default=None, help=f"default {DEFAULT_MNIST_TEST}")
    p.add_argument("--data", default=str(DEFAULT_SHARED), help="folder with photo/ and monet/ (CycleGAN)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--update-manifest", action="store_true",
                   help="write the metrics into weights/manifest.json for the measured files")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.time()
    try:
        res = EVALUATORS[args.model](args)
    except W.WeightsError as e:
        raise SystemExit(f"cannot evaluate {args.model}: {e}")
    metrics = res["metrics"]
    metrics["eval_seconds"] = round(time.time() - t0, 1)
    metrics["eval_command"] = f"python -m ganmodels.evaluate {args.model} --json"
    if args.update_manifest:
        for name in res["files"]:
            W.update_manifest(args.weights, name, metrics={args.model: metrics})
    if args.json:
        print(json.dumps({"model": args.model, "files": res["files"], "metrics": metrics}))
    else:
        for k, v in metrics.items():
            print(f"{k:>40}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
