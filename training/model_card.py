"""Write ``models/MODEL_CARD.md`` from the figures the runs left behind, so that the card
says what the files measured and nothing else: ``models/training-metrics.json`` (training
and the operating point) and ``models/eval/*.json`` (``screener eval-detector`` reports).

    python -m training.model_card --models models
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

from screener.detect.false_alarms import MIN_OVERLAP_IOU
from training.data import (
    CLASSES,
    CLUTTER_LABELS,
    CLUTTER_PER_VIEW,
    DATA_VERSION,
    LOOK_ALIKE_WEIGHT,
    LOOK_ALIKES,
    UNRECORDED_DATA_VERSION,
)

TARGET_MAP50 = 0.90
MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"

EVAL_SETS = (
    ("sim-heldout", "held-out simulated bags (`screener demo --seed 7`)", "threats.onnx"),
    ("sim-heldout-grey", "the same bags, greyscale rendering", "threats-grey.onnx"),
    ("sim-training-fit", "training bags themselves, as simulated (`training.fit_bags`)",
     "threats.onnx"),
    ("sixray-val", "SIXray positives, 220 real pseudo-colour images", "threats.onnx"),
    ("sixray-val-categories", "SIXray, scored by category", "threats.onnx"),
    ("gdxray-dev", "GDXray Baggages, 80 real single-energy images", "threats-grey.onnx"),
    ("gdxray-dev-categories", "GDXray, scored by category", "threats-grey.onnx"),
)


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def evaluation_rows(folder: Path) -> list[str]:
    rows = ["| set | model | images | mAP@0.5 | mAP@0.5:0.95 | AP@0.5 per class | "
            "precision / recall at the operating point |", "|---|---|---|---|---|---|---|"]
    for name, title, model in EVAL_SETS:
        report = load(folder / f"{name}.json")
        if report is None:
            rows.append(f"| {title} | `{model}` | not run | | | | |")
            continue
        ev = report["evaluation"]
        per_class = ", ".join(f"{c['label']} {fmt(c['ap50'], 2)}" for c in ev["classes"]
                              if c["ground_truth"])
        op = ev["operating_point"]
        rows.append(f"| {title} | `{model}` | {ev['images']} | {fmt(ev['map50'])} | "
                    f"{fmt(ev['map50_95'])} | {per_class} | {fmt(op['precision'], 2)} / "
                    f"{fmt(op['recall'], 2)} |")
    return rows


def size_rows(report: dict[str, Any] | None) -> list[str]:
    """Per class and COCO object size (``by_size`` of an eval-detector report): how many
    objects, their AP@0.5 and the share found at some score."""
    sizes = (report or {}).get("evaluation", {}).get("by_size")
    if not sizes:
        return []
    names = list(sizes)
    rows = ["| class | " + " | ".join(f"{n}: objects, AP@0.5, found" for n in names) + " |",
            "|---|" + "---|" * len(names)]
    for index, first in enumerate(sizes[names[0]]["classes"]):
        cells = []
        for name in names:
            row = sizes[name]["classes"][index]
            cells.append(f"{row['ground_truth']}, {fmt(row['ap50'], 2)}, "
                         + (f"{row['recall_max50']:.0%}" if row["recall_max50"] is not None
                            else "n/a"))
        rows.append(f"| {first['label']} | " + " | ".join(cells) + " |")
    return ["By object size on the held-out simulated bags (COCO box areas in view pixels: "
            "small up to 32², medium to 96², large above; \"found\": the share with a "
            "detection of its class at IoU 0.5 at any score):", "", *rows, ""]


def false_alarm_rows(report: dict[str, Any] | None, shown: int = 3) -> list[str]:
    """Per class, the false alarms at the default thresholds on the held-out simulated
    bags and the articles they lie on most often (``false_alarms_on`` of an
    eval-detector report): the look-alikes more training data should show the model."""
    evaluation = (report or {}).get("evaluation", {})
    sources = evaluation.get("false_alarms_on")
    if not sources:
        return []
    rows = ["| class | false alarms | most often on |", "|---|---|---|"]
    for label, counts in sources.items():
        listed = ", ".join(f"{name} {n:,}" for name, n in list(counts.items())[:shown])
        rows.append(f"| {label} | {sum(counts.values()):,} | {listed} |")
    return [f"False alarms at the default thresholds on the {evaluation['images']:,} held-out "
            "simulated views, by the article each lies on (the labelled object its box "
            f"overlaps most, at IoU {MIN_OVERLAP_IOU:g} or more; `eval-detector` reports "
            "them):", "", *rows, ""]


def operating_rows(metrics: dict[str, Any]) -> list[str]:
    rows = ["| rendering | threshold per class | PD (test half) | PD per class (test half) "
            "| false alarms per bag (test half) | clean bags with a false alarm |",
            "|---|---|---|---|---|---|"]
    for rendering in ("standard", "grey"):
        block = metrics.get(rendering)
        if not block:
            continue
        test = block["operating_point_test"]
        thresholds = ", ".join(f"{c} {fmt(t, 2)}" for c, t in test["thresholds"].items())
        per_class = ", ".join(f"{c} {fmt(p, 2)}" for c, p in test["pd_per_class"].items())
        rows.append(f"| {rendering} | {thresholds} | {fmt(test['pd'])} | {per_class} | "
                    f"{fmt(test['false_alarms_per_bag'], 2)} | "
                    f"{fmt(test['clean_bags_with_false_alarm'], 2)} |")
    return rows


#: A class whose AP@0.5 on held-out simulated bags is under this is named in the status.
WEAK_AP50 = 0.5


#: A weak class that still finds this share of its objects at some score (IoU 0.5) is
#: held back by how it ranks them, not by missing them.
FOUND_SHARE = 0.7


def ranking_diagnosis(weak: list[dict[str, Any]]) -> str:
    """Which weak classes' objects the model does find at some score (``recall_max50``,
    the recall at the lowest score ``eval-detector`` keeps) but ranks below its false
    alarms, so that AP stays low: more objects are not what they lack."""
    found = [c for c in weak if (c.get("recall_max50") or 0.0) >= FOUND_SHARE]
    if not found:
        return ""
    listed = ", ".join(f"{c['label']} {c['recall_max50']:.0%}" for c in found)
    return (f"Yet at some score the model finds most of these objects ({listed} of them "
            "at IoU 0.5): what holds their AP down is that their detections score below "
            "many of its false alarms. ")


def fit_diagnosis(held_out: dict[str, Any], fit: dict[str, Any] | None) -> str:
    """Whether the held-out figure misses the target because the network cannot fit its
    training bags (then more bags of the same kind will not help) or because what it
    fits does not carry over to new bags (then more, and more varied, bags will)."""
    if fit is None:
        return ""
    evaluation = fit["evaluation"]
    fit_map = evaluation["map50"]
    if fit_map < TARGET_MAP50:
        short = ", ".join(f"{c['label']} {fmt(c['ap50'], 2)}" for c in evaluation["classes"]
                          if c["ground_truth"] and c["ap50"] < TARGET_MAP50)
        return (f"On {evaluation['images']} views of its own training bags it reaches only "
                f"mAP@0.5 {fmt(fit_map)} ({short}): the network does not fit even the bags it "
                "learnt from, so more bags of the same kind can at best bring new bags up to "
                "that, still short of the target; more capacity, or a larger input, is what "
                "the data asks for. ")
    return (f"On {evaluation['images']} views of its own training bags it reaches mAP@0.5 "
            f"{fmt(fit_map)}, against {fmt(held_out['evaluation']['map50'])} on new bags: "
            "it fits what it learnt but that does not carry over, so more, and more varied, "
            "bags are what it needs. ")


def status_lines(sim: dict[str, Any], metrics: dict[str, Any],
                 fit: dict[str, Any] | None = None) -> list[str]:
    """The card's opening paragraph when the held-out mAP misses the target: the figure,
    the weakest classes as measured, whether the network fits its own training bags
    (``fit``, the "sim-training-fit" report), and what the model saw."""
    evaluation, training = sim["evaluation"], metrics["training"]
    if evaluation["map50"] >= TARGET_MAP50:
        return []
    weak = [c for c in evaluation["classes"] if c["ground_truth"] and c["ap50"] < WEAK_AP50]
    weak_text = (", ".join(f"{c['label']} {fmt(c['ap50'], 2)}" for c in weak)
                 if weak else "none")
    return [
        f"**Status: below target.** mAP@0.5 on held-out simulated bags is "
        f"{fmt(evaluation['map50'])} against the {TARGET_MAP50:.2f} target, and false alarms "
        "at the default thresholds are far too many for a checkpoint. The model is shipped "
        "so that the detector path runs end to end out of the box and so that its figures "
        "are on record; treat its flags as a demonstration, not as screening advice. "
        f"It saw {training['crops_seen']:,} training crops ({training_time(metrics)}). "
        f"Classes under AP@0.5 {WEAK_AP50}: {weak_text}. "
        + ranking_diagnosis(weak)
        + fit_diagnosis(sim, fit)
        + loss_trend(training.get("history", []), training.get("phases", [])),
        "",
    ]


def training_time(metrics: dict[str, Any]) -> str:
    """Minutes of training, over how many phases, on which machine (the last run's)."""
    training = metrics["training"]
    minutes = f"{training['seconds'] / 60:.0f} min of wall clock"
    phases = len(training.get("phases", []))
    if phases > 1:
        return f"{minutes} over {phases} phases, the last on {metrics['hardware']}"
    return f"{minutes} on {metrics['hardware']}"


def loss_trend(history: list[dict[str, Any]], phases: list[dict[str, Any]],
               rows: int = 4) -> str:
    """Whether more steps are the first thing to try: for a resumed model, whether its last
    phase lowered the classification loss below where the phase before ended (the end of a
    cosine schedule is flat by design, so its last rows say little; on other training
    bags or another simulated-data version the two losses do not compare); for one phase,
    whether the loss still fell over its last logged rows (every 250 steps)."""
    if len(history) < rows or "cls" not in history[-1]:
        return ""
    last = history[-1]["cls"]
    if len(phases) > 1:
        bags = [fmt(phase.get("training_bags")) + " bags" for phase in phases[-2:]]
        data = ["simulated data " + data_version(phase) for phase in phases[-2:]]
        for before_this, this in (bags, data):
            if before_this != this:
                return (f"The last phase trained on {this} where the phase before trained "
                        f"on {before_this}, so their training losses do not compare; the "
                        "held-out figures below do.")
        boundary = sum(int(phase["steps"]) for phase in phases[:-1])
        before = [row for row in history if row["step"] <= boundary and "cls" in row]
        if before:
            first = before[-1]["cls"]
            steps = int(phases[-1]["steps"])
            if last < 0.98 * first:
                return (f"The last phase ({steps:,} steps) lowered the classification loss "
                        f"from {fmt(first)}, where the phase before ended, to {fmt(last)}: "
                        "more steps, ideally on a GPU, still come first.")
            return (f"The last phase ({steps:,} steps) left the classification loss where "
                    f"the phase before ended ({fmt(first)} to {fmt(last)}): a larger model "
                    "or better data comes before more steps.")
    first = history[-rows]["cls"]
    span = history[-1]["step"] - history[-rows]["step"]
    if last < first:
        return (f"The classification loss was still falling when the clock stopped "
                f"({fmt(first)} to {fmt(last)} over the last {span:,} steps): more steps, "
                "ideally on a GPU, come first.")
    return (f"The classification loss had levelled off ({fmt(first)} to {fmt(last)} over "
            f"the last {span:,} steps): a larger model or better data comes before more "
            "steps.")


def data_version(phase: dict[str, Any]) -> str:
    """The simulated-data version a phase trained on (v1 where its record predates it)."""
    return str(phase.get("data_version") or UNRECORDED_DATA_VERSION)


def data_note(phases: list[dict[str, Any]]) -> str:
    """What `make model` cannot repeat: phases that trained on an older simulated-data
    version than the one the simulator now makes."""
    older: dict[str, list[int]] = {}
    for number, phase in enumerate(phases, 1):
        if data_version(phase) != DATA_VERSION:
            older.setdefault(data_version(phase), []).append(number)
    if not older:
        return ""

    def numbers(phase_numbers: list[int]) -> str:
        if len(phase_numbers) == 1:
            return f"Phase {phase_numbers[0]}"
        if len(phase_numbers) > 2 and phase_numbers == list(range(phase_numbers[0],
                                                                  phase_numbers[-1] + 1)):
            return f"Phases {phase_numbers[0]} to {phase_numbers[-1]}"
        return "Phases " + ", ".join(map(str, phase_numbers))

    listed = "; ".join(f"{numbers(ns)} trained on simulated data {version}"
                       for version, ns in older.items())
    return (f"{listed}, older than the current {DATA_VERSION} (`DATA_VERSION` in "
            "`training/data.py`) that `make model` simulates for every phase.")


def simulation(data: dict[str, Any]) -> str:
    minutes = data["simulate_seconds"] / 60
    if minutes < 1:
        return "the simulated samples were already in the cache for the last run"
    return f"simulation {minutes:.0f} min"


def phase_lines(training: dict[str, Any]) -> list[str]:
    """One bullet per training phase (a resumed run adds one to its source's), with its
    throughput in crops per second (a phase recorded before phases kept their batch size
    trained the last run's ``training['batch']`` crops a step)."""
    lines = []
    for number, phase in enumerate(training.get("phases", []), 1):
        batch = phase.get("batch") or training["batch"]
        throughput = (f" ({phase['steps'] * batch / phase['seconds']:.1f} crops/s)"
                      if phase["seconds"] > 0 else "")
        weights = phase.get("class_weights") or {}
        heavier = ", ".join(f"{c} x{w:g}" for c, w in weights.items() if w != 1)
        start = (f"resumed from `{Path(phase['resumed_from']).name}`"
                 if phase.get("resumed_from") else "from scratch")
        lines.append(
            f"* Phase {number}, {start}: {phase['steps']:,} steps in "
            f"{phase['seconds'] / 60:.0f} min{throughput} on "
            f"{fmt(phase.get('training_bags'))} training "
            f"bags, {phase.get('cls_loss', 'bce')} classification loss, peak learning rate "
            f"{fmt(phase.get('lr'), 4)}"
            + (" (bf16 autocast)" if phase.get("precision") == "bf16" else "")
            + f", simulated data {data_version(phase)}"
            + (f", views drawn more often by class ({heavier})" if heavier else "")
            + (f", {phase['augment']} batch augmentation"
               if phase.get("augment") not in (None, "full") else "") + ".")
    return [*lines, ""] if lines else []


def reproduce_commands(makefile: Path = MAKEFILE, target: str = "model") -> list[str]:
    """The ``python -m training...`` commands of the Makefile's ``target`` recipe, with
    the Makefile's variables expanded and ``$(BIN)/python`` written as ``python``, one
    line each: the card prints the phases from the Makefile instead of a copy of them."""
    text = makefile.read_text(encoding="utf-8").replace("\\\n", " ")
    variables = dict(re.findall(r"^([A-Za-z0-9_]+)\s*[:?]?=\s*(.*?)\s*$", text, re.M))
    recipe = re.search(rf"^{re.escape(target)}:.*\n((?:(?:\t.*|[ \t]*|#.*)(?:\n|$))*)",
                       text, re.M)
    if recipe is None:
        raise ValueError(f"{makefile}: no {target!r} target")

    def expand(match: re.Match[str]) -> str:
        return variables.get(match.group(1) or match.group(2), match.group(0))

    commands = []
    for line in recipe.group(1).splitlines():
        if not line.startswith("\t"):
            continue  # a blank or comment line inside the recipe
        command = line.strip().lstrip("@-+").replace("$(BIN)/python", "python")
        for _ in range(10):  # variables that name other variables
            command = re.sub(r"\$\((\w+)\)|\$\{(\w+)\}", expand, command)
        command = " ".join(command.split())
        if not command.startswith("python -m training."):
            continue
        if "$" in command:
            raise ValueError(f"{makefile}: cannot expand every variable in {command!r}")
        commands.append(command)
    return commands


#: How each test-time flip of a manifest reads in the card.
FLIP_WORDS = {"horizontal": "mirrored left to right", "vertical": "mirrored top to bottom",
              "both": "turned half a turn"}


def flip_pass_lines(manifest: dict[str, Any] | None) -> list[str]:
    """What the manifest's test-time passes do, or nothing for one pass."""
    flips = ((manifest or {}).get("test_time") or {}).get("flips") or []
    if not flips:
        return []
    runs = {2: "twice", 3: "three times"}.get(1 + len(flips), f"{1 + len(flips)} times")
    ways = ", ".join(["as given", *(FLIP_WORDS.get(flip, flip) for flip in flips)])
    return ["", f"Each view runs {runs} ({ways}) and the passes' detections are fused: a "
            "score is the mean over the passes (docs/detector.md, Test-time flips). The "
            "thresholds and every figure below are of fused scores, and the times above "
            "include every pass."]


def view_fusion_lines(manifest: dict[str, Any] | None) -> list[str]:
    """What the manifest's view fusion does, or nothing without it."""
    plan = (manifest or {}).get("view_fusion")
    if not plan:
        return []
    weight, alone = plan.get("partner_weight", 1.0), plan.get("alone_factor", 1.0)
    return ["", "The views of a scan back each other up before the thresholds apply: a "
            "detection with a partner of the same class in another view (their extents "
            f"along the belt overlapping at IoU {plan.get('belt_overlap', 0.7):g} or more, "
            f"paired one to one) scores 1 - (1 - s)(1 - {weight:g} p), p being the "
            f"partner's score, and one with no partner {alone:g} s (docs/detector.md, View "
            "fusion). The thresholds and the figures on simulated scans below are of these "
            "scores; the real image sets have one view per image and are not fused."]


def card(models: Path) -> str:
    metrics = load(models / "training-metrics.json")
    if metrics is None:
        raise SystemExit(f"{models / 'training-metrics.json'} is missing: train first")
    data, training, exported = metrics["data"], metrics["training"], metrics["exported"]
    files = "\n".join(
        f"| `{name}.onnx` | {info['bytes'] / 1e6:.1f} MB | `{info['sha256']}` | "
        f"{fmt(info.get('runtime', {}).get('ms_per_view_median'), 1)} ms |"
        for name, info in exported.items())
    instances = ", ".join(f"{c} {n}" for c, n in data["threat_instances_per_class"].items())
    args = metrics["args"]
    sim = load(models / "eval" / "sim-heldout.json")
    sim_map = fmt(sim["evaluation"]["map50"]) if sim else "not run"
    fit = load(models / "eval" / "sim-training-fit.json")
    status = status_lines(sim, metrics, fit) if sim is not None else []
    commands = reproduce_commands()
    lines = [
        "# Model card: Screener threat detector " + metrics["model_version"],
        "",
        *status,
        "Generated by `python -m training.model_card` from `models/training-metrics.json` and "
        "`models/eval/*.json`; every figure below is what those runs measured.",
        "",
        "## What it is",
        "",
        f"A compact anchor-free detector ({metrics['parameters']:,} parameters; CSP backbone "
        "with strides 8/16/32, SPPF, PAN neck, decoupled heads; `training/model.py`) that "
        "flags six threat classes in cabin-baggage X-ray views: "
        + ", ".join(f"`{c}`" for c in CLASSES) + " (categories gun: handgun, gun_part, "
        "ammunition; knife; ied: ied, grenade). One network, exported twice (ONNX opset 17, "
        "output `[1, 4 + 6, N]` in the YOLOv8 layout, decoding in the graph):",
        "",
        "| file | size | sha256 | onnxruntime, 2 threads, whole detect call per 512 px view "
        "(median, training machine) |",
        "|---|---|---|---|",
        files,
        "",
        "* `threats.onnx` takes the **standard pseudo-colour rendering** of a dual-energy "
        "scan (`screener render --filter standard`), RGB, letterboxed to 512 x 512.",
        "* `threats-grey.onnx` takes the **greyscale rendering** (one channel) of any scan, "
        "for single-energy scanners; its first convolution is the colour one summed over "
        "the channels, i.e. the same network shown a grey image.",
        "",
        "`screener detect` and `screener eval-detector` pick the right one by the scan's "
        "kind. Each has a sidecar manifest (`threats.json`, `threats-grey.json`) with the "
        "classes, input, thresholds and the file's sha256, which the runtime checks.",
        *flip_pass_lines(load(models / "threats.json")),
        *view_fusion_lines(load(models / "threats.json")),
        "",
        "## Data",
        "",
        f"Only simulated scans; no real image was used for training. {data['training_bags']:,} "
        f"training bags ({data['training_views']:,} views, "
        f"{data['greyscale_training_views']:,} of them rendered greyscale) and "
        f"{data['held_out_bags']:,} held-out bags from disjoint seeds, made by "
        f"`screener.sim` (suitcases, backpacks, trays; {len(CLUTTER_LABELS)} benign article "
        "families; threats "
        "placed at benign heights). Threat instances in training: " + instances + ". "
        "Training views also get **TIP-style composition** (a threat article projected alone "
        "and multiplied into the bag's transmission per energy channel, with detector blur "
        "and matched noise, then re-rendered) and **clutter** (benign articles composed the "
        f"same way, on {CLUTTER_PER_VIEW:.0%} of the views, with "
        f"{', '.join(LOOK_ALIKES[:-1])} and {LOOK_ALIKES[-1]} "
        f"each drawn {LOOK_ALIKE_WEIGHT:g} times as often as any other); batches get quarter "
        "turns, flips, rotation, scale "
        f"{metrics['augment']['scale'][0]:g} to {metrics['augment']['scale'][1]:g}, crops, "
        "contrast, gamma, blur and noise (`training/augment.py`).",
        "",
        "## Training",
        "",
        f"`make model` (below): {simulation(data)}; training took "
        f"{training_time(metrics)} ({training['steps']:,} steps of "
        f"{training['batch']} crops of {training['crop']} px, "
        f"{training['crops_seen']:,} crops), torch {metrics['torch']} on the CPU, "
        f"total {metrics['total_seconds'] / 60:.0f} min for the last run. Seed "
        f"{args['seed']}.",
        "",
        *phase_lines(training),
        "## Operating point",
        "",
        "Default thresholds (in the manifests) are chosen per class as the highest score "
        "whose probability of detection (PD) reaches 0.90 on the calibration half of the "
        f"held-out bags (even bag numbers, {args['held_out'] // 2} bags); PD and false "
        "alarms are then measured on the test half (odd bag numbers), which took no part. "
        "A hit is a same-class detection with IoU >= 0.3; a false alarm a detection on no "
        "threat (definitions in `training/evaluate.py`).",
        "",
        *operating_rows(metrics),
        "",
        "## Evaluation",
        "",
        "`python -m training.run_evaluations` runs `screener eval-detector` on each set "
        "(JSON and PR curves in `models/eval/`). COCO-style AP (101 points), one-to-one "
        "matching; precision and recall at the manifest thresholds. Real sets are scored "
        "by class with the shipped maps (`sixray`: Gun -> handgun, Knife -> knife, Wrench "
        "left out; `gdxray`: Handgun, Knife) and by category (`*-categories`: any gun "
        "class counts for a gun, razor blades and shuriken as knives).",
        "",
        *evaluation_rows(models / "eval"),
        "",
        *size_rows(sim),
        *false_alarm_rows(sim),
        f"Target on held-out simulated bags: mAP@0.5 >= {TARGET_MAP50:.2f} (measured "
        f"{sim_map}).",
        "",
        "## Known limits",
        "",
        "* **Simulated to real.** The simulator's articles are built from convex parts, its "
        "bags are tidier than real ones and its noise and blur are a model "
        "(docs/simulator.md). The real-image figures above are what carries over without "
        "training on real images; they are far below the simulated ones.",
        "* **SIXray colours.** SIXray images come from another scanner with its own colour "
        "table; the model learnt Screener's rendering. Guns in SIXray are often shown at "
        "angles and scales the simulator's handguns rarely take.",
        "* **Classes.** Only the six simulator classes. Razor blades, shuriken, scissors, "
        "wrenches, liquids are not learnt (a detection on them is a false alarm or a lucky "
        "category hit).",
        "* **Resolution.** Views are letterboxed to 512 px: in a 1500 px-long cabin view a "
        "cartridge is about 7 x 27 model pixels; smaller objects are missed.",
        "* **Cargo.** Not trained on cargo scans.",
        "",
        "## What would raise the real-image figures",
        "",
        "* Rendering real scanners' colour tables in training (augment hue and saturation "
        "in the way SIXray-like exports differ), and calibrating against a real scanner.",
        "* A richer article library: meshes of real handguns and knives instead of convex "
        "assemblies, more orientations, real clutter statistics.",
        "* Fine-tuning on licensed real images (not the evaluation sets), and a larger "
        "input (640 px) for small items, within the speed budget (`bench/detect.py`).",
        "",
        "## Reproduce",
        "",
        "```",
        "make model    # installs the train extra (PyTorch CPU), trains, evaluates, "
        "writes this card",
        "```",
        "",
        f"which runs these {sum('training.train' in c for c in commands)} training phases, "
        "each resumed from the one before, then evaluates and writes this card (the "
        "Makefile's `model` target keeps them):",
        "",
        "```",
        *commands,
        "```",
        "",
        "The phases marked bf16 autocast above ran so on a CPU with AMX tiles or "
        "AVX512-BF16 (`--bf16 auto`), the others in fp32. Training stops on wall clock, "
        "so another machine gives a close, not identical, model (training/README.md). "
        + data_note(training.get("phases", [])),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    (args.models / "MODEL_CARD.md").write_text(card(args.models), encoding="utf-8")
    print(f"wrote {args.models / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
