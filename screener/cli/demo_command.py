"""``screener demo``: write a stream of simulated bags to a folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from screener.demo import MANIFEST_NAME, DemoItem, write_demo


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser("demo", help="simulate a demo stream of bags (some with threats)")
    demo.add_argument("--out", type=Path, required=True, help="folder to write scans into")
    demo.add_argument("--bags", type=int, default=20, help="cabin bags to simulate (20)")
    demo.add_argument("--seed", type=int, default=0, help="random seed; same seed, same bags")
    demo.add_argument("--cargo", type=int, default=0, help="cargo container scans to add (0)")
    demo.add_argument("--threat-fraction", type=float, default=0.3,
                      help="share of scans that hold a threat (0.3)")
    demo.add_argument("--jobs", type=int, default=None, help="worker processes (all cores)")
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    total = args.bags + args.cargo
    with tqdm(total=total, unit="scan", desc="simulating", disable=None) as bar:

        def advance(item: DemoItem) -> None:
            bar.set_postfix_str(item.file)
            bar.update()

        items = write_demo(
            args.out, args.bags, args.seed, threat_fraction=args.threat_fraction,
            cargo=args.cargo, jobs=args.jobs, on_done=advance,
        )
    print(f"wrote {len(items)} scans to {args.out} (list: {args.out / MANIFEST_NAME})")
    return 0
