"""How fast the threat detector runs, next to a YOLO11n-shaped network timed in the same run.

Target on 2 cores with onnxruntime's CPU provider: our detector is no slower than a
YOLO11n-sized network at the same input size (YOLO11n runs a 640 px image in about
45-55 ms with 2 threads on these machines), so at most 50 ms median per 640 px view.

What it times, as median and p90 ms over ``--repeats`` after ``--warmup`` runs, every case
once per round so that all of them see the same machine load:

* the YOLO11n-shaped graph of ``bench/yolo11n_graph.py`` (YOLO11n's layer shapes and
  parameter count, random weights, built in memory: no PyTorch, no downloads), session.run
  only, at 640 x 640 and at each of our models' input sizes;
* each of our models (the shipped ``models/*.onnx``, or ``--model``) loaded by
  ``screener.detect.Detector`` on the two views of a simulated cabin bag, fed as
  ``screener detect`` feeds them: session.run alone (the detector's own session, on the
  view's preprocessed tensor), inference (session.run on every test-time pass the
  manifest asks for: the input and its mirror images, docs/detector.md), each stage (the
  display rendering, preprocess, postprocess with the passes' fusion) and the whole
  per-view detect call (render + preprocess + inference + postprocess); for a model whose
  manifest fuses views, the view fusion of the scan's candidates and the whole-scan
  ``detect_scan`` call;
* ours / YOLO11n-shaped at the same input size, per pass; and, for a model that runs more
  than one pass, its inference per view against the YOLO11n-shaped graph at 640 x 640 and
  the 50 ms bound, which is what a view costs whatever the input size.

All sessions use the runtime's options (``--threads`` intra-op threads, one inter-op
thread, sequential, idle workers sleep). Until the shipped model exists it says so and
times the YOLO11n-shaped graph alone.

    .venv/bin/python bench/detect.py [--repeats 30] [--warmup 5] [--threads 2] [--model PATH]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from numpy.typing import NDArray
from yolo11n_graph import (
    INPUT,
    YOLO11N_GFLOPS_640,
    YOLO11N_PARAMETERS,
    YoloGraph,
    build_yolo11n,
)

from screener.cli.detect_command import input_maker
from screener.cli.eval_command import default_model_path
from screener.detect import Detector, DetectorUnavailableError
from screener.detect.manifest import Flip
from screener.detect.preprocess import prepare
from screener.detect.test_time import RunModel, candidates, detect_passes, flip_tensor
from screener.detect.view_fusion import belt_intervals, fuse_views
from screener.scan.model import Scan, View
from screener.sim.generate import simulate_bag

REFERENCE_SIZE = (640, 640)
TARGET_MS, TARGET_RATIO = 50.0, 1.0
SHIPPED = Path(__file__).resolve().parent.parent / "models" / "threats.onnx"
_TENSOR_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}

Size = tuple[int, int]


def show(size: Size) -> str:
    return f"{size[0]}x{size[1]}"


# --------------------------------------------------------------------------- sessions


def session_options(threads: int) -> Any:
    """The options ``screener.detect.runtime`` gives its sessions."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def same_options(ours: Any, runtime: Any) -> bool:
    """Whether the bench's options match those of a session the runtime built."""
    key = "session.intra_op.allow_spinning"
    return (ours.intra_op_num_threads == runtime.intra_op_num_threads
            and ours.inter_op_num_threads == runtime.inter_op_num_threads
            and ours.execution_mode == runtime.execution_mode
            and ours.get_session_config_entry(key) == runtime.get_session_config_entry(key))


def runtime_session(detector: Detector) -> Any:
    """The onnxruntime session the detector runs (private to the runtime: read here so that
    session.run is timed on exactly the session ``detect`` uses)."""
    return detector._session


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One timed row: ``calls`` (one per view, or one) each run once per round."""

    model: str
    what: str
    size: str
    calls: list[Callable[[], object]]
    input_size: Size | None = None  # set where the ratio to YOLO11n applies
    samples: list[float] = field(default_factory=list)

    def run_round(self) -> None:
        for call in self.calls:
            start = time.perf_counter()
            call()
            self.samples.append((time.perf_counter() - start) * 1000.0)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        return float(np.percentile(self.samples, 90))


def yolo_case(graph: YoloGraph, threads: int) -> Case:
    session = ort.InferenceSession(graph.serialized(), sess_options=session_options(threads),
                                   providers=["CPUExecutionProvider"])
    image = np.random.default_rng(0).random((1, 3, *graph.input_size), dtype=np.float32)
    run = functools.partial(session.run, None, {INPUT: image})
    return Case("YOLO11n-shaped", "session.run", show(graph.input_size), [run],
                graph.input_size)


@dataclass(frozen=True)
class ViewWork:
    """A view's input image, tensor and raw output of each test-time pass, made once, for
    the per-stage cases."""

    view: View
    image: Any
    tensor: NDArray[Any]
    plan: Any
    outputs: list[NDArray[Any]]


def view_work(view: View, make_input: Callable[[View], Any], detector: Detector,
              output_name: str, dtype: type[np.floating[Any]]) -> ViewWork:
    """Each stage's input for one view, as ``Detector.detect_image`` makes them."""
    session = runtime_session(detector)
    image = make_input(view)
    tensor, plan = prepare(image, detector.manifest, view.name)
    tensor = tensor.astype(dtype)
    outputs = [session.run([output_name], {session.get_inputs()[0].name:
                                           flip_tensor(tensor, flip)})[0]
               for flip in detector.manifest.test_time.passes]
    return ViewWork(view, image, tensor, plan, outputs)


def replay(outputs: list[NDArray[Any]]) -> RunModel:
    """A stand-in for the model that gives the passes' outputs in turn, so that
    postprocessing (decoding, NMS, fusion) is timed without inference."""
    turn = itertools.cycle(outputs)
    return lambda _tensor: next(turn)


def all_passes(session: Any, output_name: str, input_name: str, tensor: NDArray[Any],
               passes: tuple[Flip | None, ...]) -> None:
    """session.run on every test-time pass of one view (the model's whole share of it)."""
    for flip in passes:
        session.run([output_name], {input_name: flip_tensor(tensor, flip)})


def model_cases(detector: Detector, scan: Scan, threads: int) -> tuple[list[Case], str]:
    """The rows of one of our models, and a line describing it."""
    session = runtime_session(detector)
    if not same_options(session_options(threads), detector.session_options):
        print(f"note: {detector.model_path.name}'s session options differ from the bench's "
              "(screener.detect.runtime changed?): the comparison may not be like for like")
    manifest = detector.manifest
    image_input = session.get_inputs()[0]
    output_name = manifest.output_name or session.get_outputs()[0].name
    dtype = _TENSOR_TYPES[image_input.type]
    make_input, described = input_maker(detector.input_kind, scan)
    work = [view_work(view, make_input, detector, output_name, dtype) for view in scan.views]
    name, size = detector.model_path.name, manifest.input_size
    views = "per view"
    passes = manifest.test_time.passes
    cases = [
        Case(name, "session.run", show(size),
             [functools.partial(session.run, [output_name], {image_input.name: w.tensor})
              for w in work], size),
        Case(name, "inference", views,
             [functools.partial(all_passes, session, output_name, image_input.name, w.tensor,
                                passes) for w in work], size),
        Case(name, "render", views, [functools.partial(make_input, w.view) for w in work]),
        Case(name, "preprocess", views,
             [functools.partial(prepare, w.image, manifest, w.view.name) for w in work]),
        Case(name, "postprocess", views,
             [functools.partial(detect_passes, replay(w.outputs), w.tensor, manifest, w.plan)
              for w in work]),
        Case(name, "detect (all)", views,
             [functools.partial(detector.detect_scan, scan, make_input, (w.view.name,))
              for w in work], size),
    ]
    if manifest.view_fusion is not None:
        found = [candidates(replay(w.outputs), w.tensor, manifest, w.plan) for w in work]
        belts = [belt_intervals(w.view, f.boxes) for w, f in zip(work, found, strict=True)]
        cases += [
            Case(name, "view fusion", "per scan",
                 [functools.partial(fuse_views, found, belts, manifest.view_fusion)]),
            Case(name, "detect scan", "per scan",
                 [functools.partial(detector.detect_scan, scan, make_input)]),
        ]
    cases.extend(dynamic_size_cases(session, name, image_input, output_name, dtype, size))
    flips = ", ".join(f.value for f in manifest.test_time.flips) or "none"
    line = (f"{name}: {manifest.name} {manifest.version}, {manifest.input_kind.value} "
            f"input {show(size)} ({'dynamic' if is_dynamic(image_input) else 'fixed'} in the "
            f"graph) from {described}, {manifest.num_classes} classes, "
            f"{weight_count(detector.model_path) / 1e6:.2f} M weights, {len(passes)} "
            f"pass(es) per view (test-time flips: {flips}), sha256 "
            f"{detector.model_sha256[:12]}")
    return cases, line


def is_dynamic(image_input: Any) -> bool:
    return not all(isinstance(d, int) and d > 0 for d in image_input.shape[2:])


def dynamic_size_cases(session: Any, name: str, image_input: Any, output_name: str,
                       dtype: type[np.floating[Any]], size: Size) -> list[Case]:
    """session.run at 640 x 640 too, where the model's input size is not fixed."""
    if not is_dynamic(image_input) or size == REFERENCE_SIZE:
        return []
    channels = image_input.shape[1] if isinstance(image_input.shape[1], int) else 3
    tensor = np.full((1, channels, *REFERENCE_SIZE), 0.5, dtype=dtype)
    run = functools.partial(session.run, [output_name], {image_input.name: tensor})
    return [Case(name, "session.run", show(REFERENCE_SIZE), [run], REFERENCE_SIZE)]


def weight_count(path: Path) -> int:
    """Values in the model's float initializers (its weights, and any constant tables)."""
    model = onnx.load(path, load_external_data=False)
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer
               if t.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16))


# --------------------------------------------------------------------------- models


def our_models(requested: list[Path] | None) -> list[Path]:
    """``--model`` paths, else every shipped model (``threats.onnx`` first)."""
    if requested:
        return requested
    found = default_model_path()
    if found is None:
        return []
    return sorted(found.parent.glob("*.onnx"), key=lambda p: (p.name != SHIPPED.name, p.name))


def load_detectors(paths: list[Path], threads: int) -> list[Detector]:
    detectors = []
    for path in paths:
        try:
            detectors.append(Detector.load(path, threads=threads))
        except DetectorUnavailableError as exc:
            raise SystemExit(f"error: {exc}") from None
    return detectors


def cabin_scan(seed: int) -> Scan:
    """A simulated two-view cabin bag with a handgun and a knife."""
    return simulate_bag(seed, "suitcase", ["handgun", "knife"]).scan


def yolo_graphs(sizes: list[Size]) -> dict[Size, YoloGraph]:
    """The YOLO11n-shaped graph at each size it can be built at (multiples of 32)."""
    graphs = {}
    for size in sizes:
        if size[0] % 32 or size[1] % 32:
            print(f"note: no YOLO11n-shaped graph at {show(size)} (not multiples of 32), so "
                  "no ratio at that size")
            continue
        graphs[size] = build_yolo11n(size)
    return graphs


def our_cases(detectors: list[Detector], seed: int, threads: int) -> list[Case]:
    """The rows of each of our models, on the views of one simulated cabin bag."""
    if not detectors:
        return []
    scan = cabin_scan(seed)
    print(f"scan: simulated cabin bag (seed {seed}), views "
          + ", ".join(f"{v.name} {show(v.shape)}" for v in scan.views))
    cases = []
    for detector in detectors:
        rows, line = model_cases(detector, scan, threads)
        print(line)
        cases.extend(rows)
    return cases


# --------------------------------------------------------------------------- report


def yolo_line(graph: YoloGraph) -> str:
    return (f"YOLO11n-shaped graph (bench/yolo11n_graph.py, random weights): "
            f"{graph.parameters:,} parameters (YOLO11n fused: {YOLO11N_PARAMETERS:,}, "
            f"{graph.parameters / YOLO11N_PARAMETERS:.3f}x), {graph.gflops:.2f} GFLOPs at "
            f"{show(graph.input_size)} (YOLO11n at 640: {YOLO11N_GFLOPS_640}), "
            f"{graph.num_classes} classes")


def ratio_to_yolo(case: Case, yolo: dict[Size, Case]) -> float | None:
    if case.model.startswith("YOLO") or case.input_size not in yolo:
        return None
    return case.median / yolo[case.input_size].median


def print_table(cases: list[Case], yolo: dict[Size, Case], repeats: int) -> None:
    width = max(len(c.model) for c in cases)
    print(f"{'model':{width}s}  {'what':13s} {'input':9s} {'median ms':>9s} {'p90 ms':>8s} "
          f"{'/ YOLO11n':>9s}  ({repeats} rounds)")
    for case in cases:
        ratio = ratio_to_yolo(case, yolo)
        print(f"{case.model:{width}s}  {case.what:13s} {case.size:9s} {case.median:9.1f} "
              f"{case.p90:8.1f} {'' if ratio is None else f'{ratio:9.2f}':>9s}")
    print("/ YOLO11n: the row's median over the YOLO11n-shaped graph's session.run median at "
          "the same input size")


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER TARGET"


def print_verdicts(cases: list[Case], yolo: dict[Size, Case], models: list[Detector]) -> None:
    reference = yolo[REFERENCE_SIZE]
    print(f"YOLO11n-shaped at {show(REFERENCE_SIZE)}: {reference.median:.1f} ms median "
          "(YOLO11n's reference on these machines: 45-55 ms with 2 threads)")
    for detector in models:
        name, size = detector.model_path.name, detector.manifest.input_size
        mine = {(c.what, c.input_size): c for c in cases if c.model == name}
        run, whole = mine[("session.run", size)], mine[("detect (all)", size)]
        ratio = ratio_to_yolo(run, yolo)
        compared = "no YOLO11n-shaped graph at that size" if ratio is None else (
            f"{ratio:.2f}x the YOLO11n-shaped graph at {show(size)}: "
            f"{verdict(ratio <= TARGET_RATIO)} (<= {TARGET_RATIO:.2f}x)")
        print(f"{name}: session.run {run.median:.1f} ms at {show(size)} = {compared}; whole "
              f"detect {whole.median:.1f} ms per view")
        fusion, scan_call = mine.get(("view fusion", None)), mine.get(("detect scan", None))
        if fusion is not None and scan_call is not None:
            print(f"{name}: view fusion {fusion.median:.2f} ms per scan; detect_scan on the "
                  f"whole scan (every view, fused) {scan_call.median:.1f} ms")
        passes = len(detector.manifest.test_time.passes)
        if passes > 1:
            inference = mine[("inference", size)].median
            print(f"{name}: {passes} test-time passes, inference {inference:.1f} ms per view "
                  f"= {inference / reference.median:.2f}x the YOLO11n-shaped graph at "
                  f"{show(REFERENCE_SIZE)}: {verdict(inference <= reference.median)} "
                  f"(<= 1.00x), and {verdict(inference <= TARGET_MS)} (<= {TARGET_MS:.0f} ms "
                  "per view)")
        at_640 = mine.get(("session.run", REFERENCE_SIZE))
        if at_640 is not None:
            print(f"{name}: session.run at {show(REFERENCE_SIZE)} {at_640.median:.1f} ms: "
                  f"{verdict(at_640.median <= TARGET_MS)} (<= {TARGET_MS:.0f} ms)")
        elif size != REFERENCE_SIZE:
            print(f"{name}: input fixed at {show(size)} (every view is letterboxed to it), "
                  f"so no {show(REFERENCE_SIZE)} timing; compare with YOLO11n at "
                  f"{show(size)} above")


def load_line(when: str) -> str:
    one, five, _ = os.getloadavg()
    line = f"load average {when}: {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
    if when == "before" and one >= (os.cpu_count() or 1) - 0.5:
        line += " -- other work is using the cores: these figures will be noisy"
    return line


# --------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30, help="timed rounds (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=2,
                        help="onnxruntime intra-op threads and cv2.setNumThreads (default 2)")
    parser.add_argument("--model", type=Path, action="append", metavar="PATH",
                        help="an ONNX model to time (repeatable; default: every models/*.onnx)")
    parser.add_argument("--seed", type=int, default=3, help="seed of the simulated bag")
    args = parser.parse_args()
    if args.repeats < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--repeats and --threads must be >= 1, --warmup >= 0")
    return args


def main() -> None:
    args = parse_args()
    cv2.setNumThreads(args.threads)
    print(f"onnxruntime {ort.__version__} (CPUExecutionProvider), {args.threads} intra-op "
          f"threads, OpenCV {cv2.__version__} with {cv2.getNumThreads()} threads")
    print(load_line("before"))
    paths = our_models(args.model)
    if not paths:
        print(f"NO SHIPPED MODEL: {SHIPPED} does not exist yet (training writes it); timing "
              "the YOLO11n-shaped graph only. Pass --model PATH to time another model.")
    detectors = load_detectors(paths, args.threads)
    sizes = dict.fromkeys([REFERENCE_SIZE, *(d.manifest.input_size for d in detectors)])
    graphs = yolo_graphs(list(sizes))
    print(yolo_line(graphs[REFERENCE_SIZE]))
    yolo = {size: yolo_case(graph, args.threads) for size, graph in graphs.items()}
    cases = [*yolo.values(), *our_cases(detectors, args.seed, args.threads)]

    for _ in range(args.warmup):
        for case in cases:
            case.run_round()
    for case in cases:
        case.samples.clear()
    for _ in range(args.repeats):
        for case in cases:
            case.run_round()

    print()
    print_table(cases, yolo, args.repeats)
    print()
    print_verdicts(cases, yolo, detectors)
    print(load_line("after"))


if __name__ == "__main__":
    main()
