"""Evaluate the shipped models with ``screener eval-detector`` on every set the model card
reports, and keep the JSON reports and PR curves in ``models/eval/``.

* held-out simulated bags: ``screener demo --seed 7`` (bag seeds ``7 * 100003 + i``,
  disjoint from the training and held-out seeds of ``training.data``), 60 % armed;
* the first bags of training itself (``training.fit_bags``): how well the model fits
  what it learnt from, which says whether more bags or a larger network is what the
  held-out figure needs;
* ``../shared/datasets/sixray-val`` (pseudo-colour, the standard model) and
  ``../shared/datasets/gdxray-dev`` (single-energy, the greyscale model), each scored by
  class and by category; skipped with a message when the folder is absent.

    python -m training.run_evaluations --models models --bags 300
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path

from screener.cli import main as screener
from training.data import DATA_VERSION
from training.fit_bags import is_written, write_fit_bags

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
SIM_SEED = 7
#: (report name, data folder, format, class map, model file)
REAL_SETS = (
    ("sixray-val", "sixray-val", "sixray", "threats.onnx"),
    ("sixray-val-categories", "sixray-val", "sixray-categories", "threats.onnx"),
    ("gdxray-dev", "gdxray-dev", "gdxray", "threats-grey.onnx"),
    ("gdxray-dev-categories", "gdxray-dev", "gdxray-categories", "threats-grey.onnx"),
)


def run_eval(models: Path, out: Path, name: str, data: Path, data_format: str,
             classes: str | None, model: str) -> None:
    args = ["eval-detector", "--data", str(data), "--format", data_format, "--json",
            "--model", str(models / model), "--pr-curve", str(out / f"{name}-pr.png")]
    if classes:
        args += ["--classes", classes]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = screener(args)
    if code != 0:
        raise SystemExit(f"eval-detector failed on {data} (exit {code})")
    report = json.loads(buffer.getvalue())
    (out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    evaluation = report["evaluation"]
    print(f"{name}: mAP50 {evaluation['map50']:.3f}  mAP50-95 {evaluation['map50_95']:.3f}  "
          f"recall at the operating point {evaluation['operating_point']['recall']}",
          flush=True)


def training_seed(models: Path) -> int:
    """The ``--seed`` the models were trained with (their training-metrics.json), so that
    the fit is scored on their own training bags; 0, training's default, without a record."""
    try:
        metrics = json.loads((models / "training-metrics.json").read_text(encoding="utf-8"))
        return int(metrics["args"]["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--bags", type=int, default=300, help="held-out simulated bags")
    parser.add_argument("--sim-dir", type=Path, default=Path(f"build/heldout-sim-{DATA_VERSION}"),
                        help="where the held-out simulated bags are written (by default "
                        "one folder per simulated-data version, so that a new simulator "
                        "never scores old bags)")
    parser.add_argument("--fit-bags", type=int, default=300,
                        help="training bags to score the fit on (0: skip)")
    parser.add_argument("--fit-dir", type=Path,
                        default=Path(f"build/train-fit-sim-{DATA_VERSION}"),
                        help="where those training bags are written")
    parser.add_argument("--seed", type=int, default=None,
                        help="training's --seed (default: the one in the models' "
                        "training-metrics.json, else 0)")
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    args = parser.parse_args(argv)
    out = args.models / "eval"
    out.mkdir(parents=True, exist_ok=True)
    if not (args.sim_dir / "manifest.json").is_file():
        code = screener(["demo", "--out", str(args.sim_dir), "--bags", str(args.bags),
                         "--seed", str(SIM_SEED), "--threat-fraction", "0.6"])
        if code != 0:
            raise SystemExit("could not simulate the held-out bags")
    for model in ("threats.onnx", "threats-grey.onnx"):
        run_eval(args.models, out, f"sim-heldout{'-grey' if 'grey' in model else ''}",
                 args.sim_dir, "scan", None, model)
    if args.fit_bags > 0:
        seed = training_seed(args.models) if args.seed is None else args.seed
        if not is_written(args.fit_dir, seed, args.fit_bags):
            write_fit_bags(args.fit_dir, seed, args.fit_bags, workers=os.cpu_count() or 1)
        run_eval(args.models, out, "sim-training-fit", args.fit_dir, "scan", None,
                 "threats.onnx")
    for name, folder, classes, model in REAL_SETS:
        data = args.datasets / folder
        if not data.is_dir():
            print(f"{name}: skipped, {data} is absent", file=sys.stderr)
            continue
        run_eval(args.models, out, name, data, "voc", classes, model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
