"""Benchmark tinygrad_ste against PyTorch CPU and HIPS autograd; write benchmarks/RESULTS.md.

    python benchmarks/run.py                  # the full run (a few minutes on 2 cores)
    python benchmarks/run.py --before main    # also time the engine as it was at a git revision
    python benchmarks/run.py --only W3,W3s    # some workloads only (printed, RESULTS.md untouched)
    python benchmarks/run.py --quick          # fewer repeats, for a smoke run (printed only)

What it does, in order:

1. One thread on every side: OMP/MKL/OPENBLAS_NUM_THREADS=1 are set before NumPy and
   PyTorch are imported, and ``torch.set_num_threads(1)``.  OPENBLAS_CORETYPE and
   OPENBLAS_L2_SIZE, which some machines here set to work around old OpenBLAS builds,
   are removed for this process only (they make a current NumPy pick a slower kernel);
   the BLAS kernel NumPy then uses is printed.
2. Every workload (see ``workloads.py``) runs in a fresh process of its own, so its
   number cannot depend on what ran before it.  There, for every installed framework,
   build the step from the same seeded inputs and check that its first loss and
   gradients agree with ours (float64: rtol 1e-9; float32: rtol 1e-4).  A disagreement
   stops the run.
3. ``gc.collect()`` and ``gc.freeze()``: the objects that exist before timing (the
   modules of NumPy, PyTorch and autograd, the weights) are set aside, so a garbage
   collection that an engine's allocations trigger walks what the steps made, not the
   150,000 objects of PyTorch's modules.  The collector stays on; its time during each
   engine's steps is measured and reported.
4. Time each step: the median of ``repeats`` timings of ``number`` calls, the
   frameworks interleaved within every repeat (who goes first rotates) so slow drifts
   of a shared machine hit all of them alike.  The clock is the process's CPU time (user + system): on a
   machine whose cores other jobs share, it leaves out the time the process waits for
   a core, which wall-clock time does not (``--clock wall`` to use it anyway).
5. W4 (100,000-op chain) runs in a fresh process per framework, to read its peak
   resident memory (Linux VmHWM, reset through /proc/self/clear_refs) cleanly.
6. Memory check: 1,000 training steps of W1 and of W2 with tracemalloc; no window of
   100 steps in the second half may peak 1% above steps 401-500.
"""
import os
import sys

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_variable] = "1"
# Read by OpenBLAS when NumPy loads it, so they must go before ``import numpy``.
REMOVED_BLAS_OVERRIDES = {name: os.environ.pop(name) for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                          if name in os.environ}

import argparse            # noqa: E402
import gc                  # noqa: E402
import importlib           # noqa: E402
import importlib.metadata  # noqa: E402
import json                # noqa: E402
import platform            # noqa: E402
import re                  # noqa: E402
import resource            # noqa: E402
import shutil              # noqa: E402
import subprocess          # noqa: E402
import tempfile            # noqa: E402
import time                # noqa: E402
import tracemalloc         # noqa: E402
import types               # noqa: E402
from pathlib import Path   # noqa: E402

import numpy as np         # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import workloads  # noqa: E402

RESULTS_FILE = ROOT / "benchmarks" / "RESULTS.md"
TOLERANCE = {"float64": 1e-9, "float32": 1e-4}
W4_LENGTH = 100_000
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


# Every timed workload: key -> (label, workload, options, calls per timing, unit, scale to the unit, target).
WORKLOADS = {
    "W1": ("W1 MLP step, float64", "mlp", dict(batch=256, dtype="float64"), 10, "ms/step", 1e3,
           "<= 0.9x torch"),
    "W1f32": ("W1 MLP step, float32", "mlp", dict(batch=256, dtype="float32"), 10, "ms/step", 1e3,
              "<= 0.9x torch"),
    "W2": ("W2 VQ autoencoder step", "vq", dict(batch=256), 10, "ms/step", 1e3, "<= 1.0x torch"),
    "W2c": ("W2c conv VQ-VAE step", "conv_vq", dict(batch=256), 5, "ms/step", 1e3, "none (issue 21)"),
    "W3": ("W3 1,000-op chain, fwd+bwd", "chain", dict(chain_length=1000), 5, "us/op", 1e6 / 1000,
           "<= 0.6x torch, < 0.5x autograd"),
    "W3s": ("W3s 1,000 ops with a Python-number operand", "scalar_chain", dict(chain_length=1000), 5, "us/op",
            1e6 / 1000, "<= 0.6x torch"),
}


# --------------------------------------------------------------------------- set-up


def load_engine(package_dir=None):
    """tinygrad_ste's Tensor, functional and quantize: this checkout's, or a copy in ``package_dir``."""
    name = "tinygrad_ste"
    if package_dir is not None:
        sys.path.insert(0, str(Path(package_dir).parent))
        name = Path(package_dir).name
    package = importlib.import_module(name)
    return types.SimpleNamespace(Tensor=package.Tensor, quantize=package.quantize,
                                 functional=importlib.import_module(f"{name}.functional"))


def export_engine(revision, into):
    """Copy the package as it was at a git ``revision`` to ``into``/tinygrad_ste_before."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "tinygrad_ste"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    target = Path(into) / "tinygrad_ste_before"
    shutil.move(Path(into) / "tinygrad_ste", target)
    return target


def set_one_thread(peers):
    if "torch" in peers:
        import torch
        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)


def blas_description():
    """Which BLAS NumPy loaded and which kernel it runs (threadpoolctl if installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{config['name']} {config['version']} (install threadpoolctl to see the kernel)"
    infos = [i for i in threadpool_info() if i["user_api"] == "blas"]
    return "; ".join(f"{i['internal_api']} {i['version']}, kernel {i.get('architecture')}, "
                     f"{i['num_threads']} thread(s) ({Path(i['filepath']).name})" for i in infos)


def machine_description():
    model = "unknown CPU"
    try:
        model = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def load_average():
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return float("nan")


# --------------------------------------------------------------------------- timing


def time_steps(steps, number, repeats, clock=time.process_time):
    """Seconds per call of every step, ``{name: [one per repeat]}``; the steps take turns in each repeat.

    Who goes first rotates from one repeat to the next: the step that follows another
    finds the caches and the heap as that one left them, and the rotation spreads this
    over all of them alike (with a fixed order, two copies of the same engine differed
    by 2-4%).

    Also counts, per call, minor page faults (a fault is the kernel handing back a page
    that malloc returned to it, about a microsecond each) and the seconds spent in
    Python's garbage collector while that step ran.
    """
    samples = {name: [] for name in steps}
    faults = dict.fromkeys(steps, 0)
    collecting = dict.fromkeys(steps, 0.0)
    running, started = [None], [0.0]

    def on_collection(phase, info):
        if phase == "start":
            started[0] = clock()
        elif running[0] is not None:
            collecting[running[0]] += clock() - started[0]

    gc.callbacks.append(on_collection)
    try:
        names = list(steps)
        for repeat in range(repeats):
            first = repeat % len(names)
            for name in names[first:] + names[:first]:
                step = steps[name]
                running[0] = name
                faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                start = clock()
                for _ in range(number):
                    step()
                samples[name].append((clock() - start) / number)
                faults[name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
                running[0] = None
    finally:
        gc.callbacks.remove(on_collection)
    calls = number * repeats
    return samples, {name: count / calls for name, count in faults.items()}, \
        {name: seconds / calls for name, seconds in collecting.items()}


def checked_steps(workload, engines, peers, **options):
    """Build every framework's step, run each once and check it against ours; return the steps."""
    dtype = np.dtype(options.get("dtype", np.float64)).name
    steps = {name: workloads.make_step(workload, "ours", engine, **options) for name, engine in engines.items()}
    steps.update({peer: workloads.make_step(workload, peer, None, **options) for peer in peers})
    results = {name: step() for name, step in steps.items()}
    for name, result in results.items():
        if name != "ours":
            workloads.check_agreement(f"{workload} ({dtype}): ours vs {name}", results["ours"], result,
                                      rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * 1e-3)
    return steps


def workload_child(key, engine_dir, repeats, quick, clock):
    """Run in a fresh process: check and time one workload in every framework; print JSON."""
    _, workload, options, number, *_ = WORKLOADS[key]
    options = dict(options)
    if "dtype" in options:
        options["dtype"] = np.dtype(options["dtype"]).type
    peers = workloads.available_peers(workload)
    set_one_thread(peers)
    engines = {"ours": load_engine()}
    if engine_dir is not None:
        before = load_engine(engine_dir)
        if workload != "conv_vq" or hasattr(before.functional, "conv2d"):   # older engines have no convolution
            engines["before"] = before
    steps = checked_steps(workload, engines, peers, **options)
    gc.collect()
    gc.freeze()
    samples, faults, collecting = time_steps(steps, 5 if quick else number, repeats, CLOCKS[clock])
    print(json.dumps({"samples": samples, "faults": faults, "gc": collecting}))


def run_child(arguments):
    """Run this script in a fresh process with ``arguments``; return the JSON it printed last."""
    result = subprocess.run([sys.executable, __file__, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"child {' '.join(arguments)} failed:\n{result.stderr}")
    return json.loads(result.stdout.splitlines()[-1])


# --------------------------------------------------------------------------- W4 and memory


def _peak_rss_reset():
    """Forget the process's peak resident memory so far (Linux), and return the current RSS in bytes."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS") * 1024


def _status_kib(field):
    return int(re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))


def deep_chain_child(framework, engine_dir, repeats, clock):
    """Run in a fresh process: time the 100,000-op chain and measure its peak memory; print JSON."""
    clock = CLOCKS[clock]
    set_one_thread([framework])
    engine = load_engine(engine_dir) if framework == "ours" else None
    workloads.make_step("chain", framework, engine, chain_length=1000)()   # warm up lazy imports
    step = workloads.make_step("chain", framework, engine, chain_length=W4_LENGTH)
    gc.collect()
    gc.freeze()
    baseline = _peak_rss_reset()
    times = []
    for i in range(repeats):
        start = clock()
        step()
        times.append(clock() - start)
        if i == 0:
            peak = _status_kib("VmHWM") * 1024 - baseline
    print(json.dumps({"seconds": times, "peak_bytes": peak}))


def memory_flatness(workload, engine, steps=1000, window=100, **options):
    """tracemalloc peak (bytes) of every ``window`` of ``steps`` training steps of ours.

    Before each window ``gc.collect()`` also empties CPython's free lists (up to 2,000
    spare tuples of each length, and more), which otherwise fill up over the first
    thousands of steps and look like a slow leak.  A graph that outlived its step would
    add its whole size to every later window, so the second half must not peak above
    the window before it.
    """
    step = workloads.make_step(workload, "ours", engine, **options)
    tracemalloc.start()
    peaks = []
    try:
        for i in range(steps):
            if i % window == 0:
                gc.collect()
                tracemalloc.reset_peak()
            step()
            if i % window == window - 1:
                peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    return peaks


# --------------------------------------------------------------------------- the report


def ratio(a, b):
    return f"{a / b:.2f}x"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, noisier); prints only")
    parser.add_argument("--before", metavar="REV", help="also time the engine at this git revision")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--only", metavar="KEYS", help=f"comma-separated workloads to run ({', '.join(WORKLOADS)}, "
                        "W4, memory); prints only")
    parser.add_argument("--clock", choices=CLOCKS, default="cpu",
                        help="cpu: the process's CPU time (default); wall: elapsed time")
    parser.add_argument("--child", metavar="WORKLOAD", help=argparse.SUPPRESS)
    parser.add_argument("--w4-child", metavar="FRAMEWORK", help=argparse.SUPPRESS)
    parser.add_argument("--engine-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 25)
    if args.child:
        return workload_child(args.child, args.engine_dir, repeats, args.quick, args.clock)
    if args.w4_child:
        return deep_chain_child(args.w4_child, args.engine_dir, repeats, args.clock)

    selected = args.only.split(",") if args.only else [*WORKLOADS, "W4", "memory"]
    unknown = set(selected) - {*WORKLOADS, "W4", "memory"}
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {', '.join(WORKLOADS)}, W4, memory")
    write_results = not (args.quick or args.only)
    peers = workloads.available_peers()
    engines = {"ours": load_engine()}
    engine_dirs = {"ours": None}
    scratch = tempfile.TemporaryDirectory()
    if args.before:
        engine_dirs["before"] = export_engine(args.before, scratch.name)
        engines["before"] = None   # loaded by the child processes only
    columns = list(engines) + peers
    child_options = ["--repeats", str(repeats), "--clock", args.clock] + (["--quick"] if args.quick else [])
    if args.before:
        child_options += ["--engine-dir", str(engine_dirs["before"])]

    clock_name = {"cpu": "CPU time of the process (user + system)", "wall": "wall-clock time"}[args.clock]
    lines = ["# Benchmark results", "",
             f"Command: `python benchmarks/run.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.  ",
             f"Machine: {machine_description()}; load average {load_average():.1f} at the start.  ",
             f"Python {platform.python_version()}, NumPy {np.__version__}"
             + "".join(f", {p} {importlib.metadata.version(p)}" for p in peers) + ".  ",
             f"BLAS: {blas_description()}.  ",
             "Threads: one on every side (OMP/MKL/OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)).  ",
             f"Removed for this run only: {', '.join(REMOVED_BLAS_OVERRIDES) or 'nothing (neither was set)'}.  ",
             "glibc malloc settings: " + (", ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                                                    if k.startswith("MALLOC_")) or "defaults") + ".  ",
             f"Clock: {clock_name}.  Each workload runs in a fresh process, with what existed before its "
             "first timed step frozen out of the garbage collector's way (gc.freeze).  ",
             f"Each time is the median of {repeats} repeats; every framework's first step was checked "
             "to give the same loss and gradients as ours (float64 rtol 1e-9, float32 rtol 1e-4).",
             ""]
    if args.before:
        lines += [f"`before` is the engine at git revision `{args.before}`, timed in the same run.", ""]

    header = "| workload | unit | " + " | ".join(columns) + " | " + " | ".join(
        f"{e}/{p}" for e in engines for p in peers) + " | target |"
    lines += [header, "|" + " --- |" * (header.count("|") - 1)]

    best_rows, fault_rows, gc_rows = [], [], []

    def ratio_of(times, a, b):   # "-" where a framework does not run the workload (no convolution in autograd)
        return ratio(times[a], times[b]) if a in times and b in times else "-"

    def row(label, unit, samples, scale, target):
        values = {name: float(np.median(times)) for name, times in samples.items()}
        best = {name: min(times) for name, times in samples.items()}
        cells = [f"{values[c] * scale:.3g}" if c in values else "-" for c in columns]
        cells += [ratio_of(values, e, p) for e in engines for p in peers]
        lines.append(f"| {label} | {unit} | " + " | ".join(cells) + f" | {target} |")
        print(lines[-1], flush=True)
        best_rows.append(f"| {label} | " + " | ".join(ratio_of(best, e, p) for e in engines for p in peers) + " |")

    print("\n".join(lines), flush=True)
    for key in (k for k in WORKLOADS if k in selected):
        label, _, _, _, unit, scale, target = WORKLOADS[key]
        result = run_child(["--child", key] + child_options)
        row(label, unit, result["samples"], scale, target)
        mean = {name: float(np.mean(times)) for name, times in result["samples"].items()}
        fault_rows.append(f"| {label} | " + " | ".join(f"{result['faults'][c]:.0f}" if c in mean else "-"
                                                       for c in columns) + " |")
        gc_rows.append(f"| {label} | " + " | ".join(f"{result['gc'][c] / mean[c]:.1%}" if c in mean else "-"
                                                    for c in columns) + " |")

    if "W4" in selected:
        w4_repeats = ["--repeats", "1" if args.quick else "3", "--clock", args.clock]
        deep = {name: run_child(["--w4-child", "ours"] + w4_repeats
                                + (["--engine-dir", str(engine_dirs[name])] if engine_dirs[name] else []))
                for name in engines}
        deep.update({peer: run_child(["--w4-child", peer] + w4_repeats) for peer in peers})
        row("W4 100,000-op chain, fwd+bwd", "s", {n: d["seconds"] for n, d in deep.items()}, 1,
            "< 1.0x torch")
        row("W4 peak memory (RSS growth)", "MB", {n: [d["peak_bytes"]] for n, d in deep.items()}, 1e-6, "-")

    main_table_end = len(lines)
    lines += ["", "## Ratios from the best repeat instead of the median", "",
              "The machine is shared: other jobs slow some repeats down.  The fastest repeat is "
              "the least disturbed one.", "",
              "| workload | " + " | ".join(f"{e}/{p}" for e in engines for p in peers) + " |",
              "|" + " --- |" * (1 + len(engines) * len(peers))] + best_rows
    lines += ["", "## Time in Python's garbage collector", "",
              "Share of each engine's time spent in collections that ran during its steps "
              "(PyTorch keeps its graph in C++, where the collector never looks).", "",
              "| workload | " + " | ".join(columns) + " |", "|" + " --- |" * (1 + len(columns))] + gc_rows
    lines += ["", "## Minor page faults per step", "",
              "glibc gives freed memory at the top of the heap back to the kernel once more than its trim "
              "threshold is free, and the next step faults every page in again.", "",
              "| workload | " + " | ".join(columns) + " |", "|" + " --- |" * (1 + len(columns))] + fault_rows

    if "memory" in selected:
        lines += ["", "## Memory over 1,000 training steps (ours, tracemalloc)", "",
                  "| workload | peak, steps 1-100 (warm-up) | peak, steps 401-500 | peak, steps 901-1000 | flat? |",
                  "| --- | --- | --- | --- | --- |"]
        for label, workload in (("W1 MLP float64", "mlp"), ("W2 VQ autoencoder", "vq")):
            peaks = memory_flatness(workload, engines["ours"], batch=256)
            middle = len(peaks) // 2 - 1
            flat = max(peaks[middle:]) <= 1.01 * peaks[middle]
            lines.append(f"| {label} | {peaks[0] / 1e6:.2f} MB | {peaks[middle] / 1e6:.2f} MB | "
                         f"{peaks[-1] / 1e6:.2f} MB | {'yes' if flat else 'NO'} |")
            print(lines[-1], flush=True)
            if not flat:
                raise SystemExit(f"memory grows over training steps in {label}")
    scratch.cleanup()
    lines += ["", f"Load average at the end: {load_average():.1f} (2 cores)."]
    if write_results:
        RESULTS_FILE.write_text("\n".join(lines) + "\n")
        print(f"\nwritten to {RESULTS_FILE.relative_to(ROOT)}")
    else:
        print("\n".join(lines[main_table_end:]))


if __name__ == "__main__":
    main()
