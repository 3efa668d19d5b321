"""The training bags themselves, as scan files, so that ``screener eval-detector`` can say
how well the model fits what it learnt from.

The held-out figures alone cannot tell the two reasons a model misses its target apart.
If it scores well on its own training bags but not on new ones, it generalises poorly,
and more or more varied bags are what it needs; if it scores as poorly on its training
bags, the network cannot fit the data at all, and more bags of the same kind will not
help (a larger network, or a larger input, will). ``training.run_evaluations`` writes the
first bags of training's plan here and scores them ("sim-training-fit").

The bags are written as the simulator makes them (:func:`training.data.simulate_job`):
the same bag, articles and threats that training saw, before the training-time
composition (clutter and TIP threats on some views) and the choice of rendering, which
vary per view and are not part of the bag.

    python -m training.fit_bags --out build/train-fit-sim-v3 --bags 300
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
from pathlib import Path

from screener.scan.hdf5 import write_scan
from training.data import DATA_VERSION, Job, plan_jobs, simulate_job

#: What marks a folder as complete, and which bags it holds.
MANIFEST_NAME = "manifest.json"


def bag_file(out: Path, job: Job) -> Path:
    return out / f"bag-{job.index + 1:04d}.h5"


def _write_job(item: tuple[Path, Job]) -> str | None:
    """Simulate one training bag into ``out``; its file name, or None when refused."""
    out, job = item
    sim = simulate_job(job)
    if sim is None:
        return None
    path = bag_file(out, job)
    write_scan(path, sim.scan, sim.truth)
    return path.name


def fit_manifest(seed: int, bags: int) -> dict[str, object]:
    return {"kind": "training-fit", "seed": seed, "bags": bags, "data_version": DATA_VERSION}


def is_written(out: Path, seed: int, bags: int) -> bool:
    """Whether ``out`` already holds exactly these bags of this simulator version."""
    path = out / MANIFEST_NAME
    if not path.is_file():
        return False
    try:
        written = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(written, dict) and all(
        written.get(key) == value for key, value in fit_manifest(seed, bags).items())


def write_fit_bags(out: Path, seed: int, bags: int, workers: int = 1) -> list[str]:
    """Write training bags ``0 .. bags - 1`` of seed ``seed`` (training's plan) into
    ``out`` as scan files with their ground truth, and a manifest naming them, in place
    of any bags written there before; returns the files written (a bag the simulator
    refuses, as training skips it, is left out)."""
    if bags < 1:
        raise ValueError(f"bags must be at least 1, not {bags}")
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST_NAME).unlink(missing_ok=True)
    for stale in out.glob("bag-*.h5"):  # an earlier, larger or older set: not scored now
        stale.unlink()
    jobs = plan_jobs(seed, bags, 0)
    items = [(out, job) for job in jobs]
    if workers <= 1:
        names = [_write_job(item) for item in items]
    else:
        context = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with context.Pool(workers) as pool:
            names = pool.map(_write_job, items, chunksize=4)
    files = [name for name in names if name is not None]
    document = {**fit_manifest(seed, bags), "files": files,
                "refused": [job.seed for job, name in zip(jobs, names, strict=True)
                            if name is None]}
    (out / MANIFEST_NAME).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bags", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0, help="training's --seed")
    parser.add_argument("--workers", type=int, default=mp.cpu_count())
    args = parser.parse_args(argv)
    if args.bags < 1:
        parser.error(f"--bags must be at least 1, not {args.bags}")
    files = write_fit_bags(args.out, args.seed, args.bags, args.workers)
    print(f"wrote {len(files)} training bags to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
