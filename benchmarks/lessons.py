"""Time every lesson, and every cell of it, as "Restart Kernel and Run All" runs it; optionally against an older revision.

    python benchmarks/lessons.py                      # every lesson, 3 runs each, median seconds
    python benchmarks/lessons.py --before main        # also the lessons and package as they were at a git revision
    python benchmarks/lessons.py --only 02,05 --repeats 5
    python benchmarks/lessons.py --as-learner --before 36f6514   # BLAS threads as a learner's kernel gets them

Each run executes the notebook as stored (exercises unanswered) in a fresh kernel, with
the package of the checkout being timed on the kernel's path and matplotlib's Agg
backend.  Threads: one BLAS thread (OMP/OPENBLAS/MKL_NUM_THREADS=1, as the engine
benchmarks); with ``--as-learner`` no thread variable is set, so the kernel gets what a
learner's does (the package's default since ``tg.set_num_threads``; OpenBLAS's one
thread per core before it).  Two clocks:

* wall: from the first cell's start to the last cell's end (kernel start-up excluded);
* CPU: the kernel's own CPU time over the same cells, every thread of it (read by a cell
  added before the first and after the last), which leaves out the time the kernel waits
  for a core while other jobs run -- the steadier number on a shared machine.

Every code cell is timed too (CPU by IPython's pre- and post-run hooks, wall by the
kernel's timestamps); the report lists each lesson's slowest cells, by their index in the
stored notebook (markdown cells counted, from 0), and flags what is over the budget a
learner should meet: a lesson over 30 s, a cell over 10 s (CPU).

With ``--before REV`` the lessons and the package are both taken from that revision, so
the comparison answers "do the lessons run slower than they did at REV?"; the runs of the
two versions take turns, so a slow spell of the machine hits both.  A cell that raises
anything but the exercises' "not answered yet" marks the lesson as failed.  Nothing here
is run by the tests.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CELL_TIMEOUT_SECONDS = 900   # a hung kernel, not a budget
LESSON_BUDGET_SECONDS, CELL_BUDGET_SECONDS = 30, 10   # CPU, on one core of a quiet machine
SLOWEST_CELLS_SHOWN = 3      # per lesson
# Added before the first cell: the CPU clock, and hooks that time every cell after it.
CLOCK_START_CELL = """import json as _bench_json, time as _bench_time
_bench_cells, _bench_started = [], [_bench_time.process_time()]
get_ipython().events.register("pre_run_cell", lambda info: _bench_started.__setitem__(0, _bench_time.process_time()))
get_ipython().events.register("post_run_cell", lambda result: _bench_cells.append(_bench_time.process_time() - _bench_started[0]))
print("cpu seconds", _bench_time.process_time())"""
# Added after the last cell: the CPU clock, and the CPU seconds of every cell since the first one.
CLOCK_END_CELL = """print(_bench_json.dumps(_bench_cells[1:]))
print("cpu seconds", _bench_time.process_time())"""
EXPECTED_ERRORS = {"NotAnswered"}   # an unanswered exercise on revisions where check() raised
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def export_checkout(revision, into):
    """The repository as it was at a git ``revision`` (package, lessons and the figures they read), under ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return Path(into)


def printed(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def cpu_seconds(cell):
    return float(printed(cell).split()[-1])


def timestamp(cell, key):
    return datetime.datetime.fromisoformat(cell.metadata.execution[key].replace("Z", "+00:00"))


def run_lesson(path, package_root, as_learner=False):
    """Execute one lesson in a fresh kernel; returns (wall seconds, CPU seconds, unexpected errors,
    {stored cell index: (wall seconds, CPU seconds)} for every code cell)."""
    notebook = nbformat.read(path, as_version=4)
    stored = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    notebook.cells = ([nbformat.v4.new_code_cell(CLOCK_START_CELL)] + notebook.cells
                      + [nbformat.v4.new_code_cell(CLOCK_END_CELL)])
    environment = {name: value for name, value in os.environ.items() if not (as_learner and name in THREAD_VARIABLES)}
    environment.update({"PYTHONPATH": str(package_root), "MPLBACKEND": "Agg"})
    if not as_learner:
        environment.update({name: "1" for name in THREAD_VARIABLES})
    client = NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT_SECONDS, allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=environment)
    first, last = notebook.cells[0], notebook.cells[-1]
    wall = (timestamp(last, "shell.execute_reply") - timestamp(first, "iopub.execute_input")).total_seconds()
    errors = [f"cell {i - 1}: {o.ename}" for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "error" and o.ename not in EXPECTED_ERRORS]
    code_cells = [cell for cell in notebook.cells[1:-1] if cell.cell_type == "code"]
    cell_cpu = json.loads(printed(last).splitlines()[0])
    cells = {index: ((timestamp(cell, "shell.execute_reply") - timestamp(cell, "iopub.execute_input")).total_seconds(),
                     cpu) for index, cell, cpu in zip(stored, code_cells, cell_cpu)}
    return wall, cpu_seconds(last) - cpu_seconds(first), errors, cells


def first_line(path, index):
    source = nbformat.read(path, as_version=4).cells[index].source.strip().splitlines()
    return (source[0][:60] + (" ..." if len(source) > 1 or len(source[0]) > 60 else "")) if source else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="also time the lessons and package as they were at REV")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", metavar="NN,NN", help="lesson numbers to time, e.g. 02,05")
    parser.add_argument("--as-learner", action="store_true",
                        help="set no BLAS thread variable: the kernel gets the threads a learner's kernel gets")
    args = parser.parse_args()

    checkouts = {"now": ROOT}
    scratch = tempfile.mkdtemp(prefix="lessons_before_")
    if args.before:
        checkouts["before"] = export_checkout(args.before, scratch)
    wanted = set(args.only.split(",")) if args.only else None
    lessons = sorted(p.name for p in (ROOT / "lessons").glob("*.ipynb") if wanted is None or p.name[:2] in wanted)

    times = {(lesson, version): {"wall": [], "cpu": []} for lesson in lessons for version in checkouts}
    cell_times = {(lesson, version): {} for lesson in lessons for version in checkouts}   # index -> [(wall, cpu)]
    failures = {}
    try:
        for repeat in range(args.repeats):
            for lesson in lessons:
                for version, root in checkouts.items():
                    path = root / "lessons" / lesson
                    if not path.exists():
                        failures[(lesson, version)] = "no such lesson at this revision"
                        continue
                    wall, cpu, errors, cells = run_lesson(path, root, args.as_learner)
                    if errors:
                        failures[(lesson, version)] = "; ".join(errors)
                    times[(lesson, version)]["wall"].append(wall)
                    times[(lesson, version)]["cpu"].append(cpu)
                    for index, clocks in cells.items():
                        cell_times[(lesson, version)].setdefault(index, []).append(clocks)
                    print(f"run {repeat + 1}/{args.repeats} {lesson} ({version}): wall {wall:.1f} s, "
                          f"CPU {cpu:.1f} s{'  ERRORS: ' + '; '.join(errors) if errors else ''}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def median(lesson, version, clock):
        values = times[(lesson, version)][clock]
        return float(np.median(values)) if values else float("nan")

    header = "| lesson | " + " | ".join(f"{clock} {version} (s)" for clock in ("CPU", "wall") for version in checkouts)
    if args.before:
        header += " | CPU now/before | wall now/before"
    threads = "BLAS threads as a learner's kernel gets them" if args.as_learner else "one BLAS thread"
    print(f"\nMedians of {args.repeats} runs; {threads}; load average {os.getloadavg()[0]:.1f} at the end.\n")
    print(header + " |")
    print("|" + " --- |" * (header.count("|")))
    for lesson in lessons:
        cells = [f"{median(lesson, version, clock):.1f}" for clock in ("cpu", "wall") for version in checkouts]
        if args.before:
            cells += [f"{median(lesson, 'now', clock) / median(lesson, 'before', clock):.2f}x"
                      for clock in ("cpu", "wall")]
        print(f"| {lesson} | " + " | ".join(cells) + " |")

    print(f"\nThe {SLOWEST_CELLS_SHOWN} slowest cells of each lesson (now; median CPU and wall seconds; "
          f"cell index in the stored notebook, from 0).\n")
    print("| lesson | cell | CPU (s) | wall (s) | first line |\n| --- | --- | --- | --- | --- |")
    over_budget = [f"{lesson}: {median(lesson, 'now', 'cpu'):.1f} s CPU" for lesson in lessons
                   if median(lesson, "now", "cpu") > LESSON_BUDGET_SECONDS]
    for lesson in lessons:
        medians = {index: np.median(clocks, axis=0) for index, clocks in cell_times[(lesson, "now")].items()}
        for index in sorted(medians, key=lambda i: -medians[i][1])[:SLOWEST_CELLS_SHOWN]:
            wall, cpu = medians[index]
            print(f"| {lesson[:2]} | {index} | {cpu:.1f} | {wall:.1f} | `{first_line(ROOT / 'lessons' / lesson, index)}` |")
        over_budget += [f"{lesson} cell {index}: {medians[index][1]:.1f} s CPU" for index in sorted(medians)
                        if medians[index][1] > CELL_BUDGET_SECONDS]
    print(f"\nOver budget (lesson > {LESSON_BUDGET_SECONDS} s, cell > {CELL_BUDGET_SECONDS} s CPU): "
          + ("; ".join(over_budget) if over_budget else "none"))
    for (lesson, version), message in failures.items():
        print(f"FAILED {lesson} ({version}): {message}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
