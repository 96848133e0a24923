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

import torch

from ganmodels import evaluation
from ganmodels.errors import GanModelsError
from ganmodels import weights as W

# the headline numbers of each family, in this order, for the README's table
HEADLINE = {
    "classifier": ["test_accuracy"],
    "dcgan": ["confident_share", "min_class_share", "max_class_share", "classifier_fid_to_test",
              "classifier_fid_floor_train_vs_test"],
    "infogan": ["categorical_matching_accuracy", "confident_share"],
    "cgan": ["classifier_agreement", "confident_share"],
    "cyclegan": ["photo2monet_called_monet", "monet2photo_called_photo", "judge_heldout_accuracy", "cycle_psnr_db"],
    "srgan": ["srresnet_gain_db", "srgan_gain_db", "srgan_sharper_than_srresnet"],
    "face_classifier": ["val_accuracy_mean", "majority_baseline_mean"],
    "masked_reader": ["accuracy_center"],
    "faces": ["classifier_fid", "samples_closer_than_40px"],
    "pix2pix": ["classifier_fid_l1", "classifier_fid_cgan", "fid_ratio_cgan_to_l1"],
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
    p.add_argument("model", choices=sorted(evaluation.EVALUATORS))
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--weights", default=str(W.DEFAULT_DIR))
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n", type=int, default=5000, help="samples to generate (digit models)")
    p.add_argument("--data-dir", default=None,
                   help="the data folder: mnist/mnist_test_first5000.npz (digit models), photo/ and monet/ "
                        "(CycleGAN), celeba/ (faces, face_classifier, pix2pix)")
    p.add_argument("--mnist-test", default=None,
                   help="npz of MNIST test digits (default: <data-dir>/mnist/mnist_test_first5000.npz)")
    p.add_argument("--data", default=None, help="folder with photo/ and monet/ (default: <data-dir>)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--update-manifest", action="store_true",
                   help="write the metrics into weights/manifest.json for the measured files")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.time()
    try:
        res = evaluation.get(args.model)(args)
    except GanModelsError as e:
        raise SystemExit(f"cannot evaluate {args.model}: {e}")
    metrics = res["metrics"]
    metrics["eval_seconds"] = round(time.time() - t0, 1)
    where = [f"--{k.replace('_', '-')} {v}" for k, v in (("data_dir", args.data_dir), ("data", args.data),
                                                            ("mnist_test", args.mnist_test)) if v]
    metrics["eval_command"] = " ".join(["python -m ganmodels.evaluate", args.model, *where, "--json"])
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
