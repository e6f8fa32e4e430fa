"""Time every lesson as "Restart Kernel and Run All" runs it; optionally against an older revision.

    python benchmarks/lessons.py                      # every lesson, 3 runs each, median seconds
    python benchmarks/lessons.py --before main        # also the lessons and package as they were at a git revision
    python benchmarks/lessons.py --only 02,05 --repeats 5

Each run executes the notebook as stored (exercises unanswered) in a fresh kernel, with
the package of the checkout being timed on the kernel's path, one BLAS thread (as the
engine benchmarks) and matplotlib's Agg backend.  Two clocks:

* wall: from the first cell's start to the last cell's end (kernel start-up excluded);
* CPU: the kernel's own CPU time over the same cells (read by a cell added before the
  first and after the last), which leaves out the time the kernel waits for a core
  while other jobs run -- the steadier number on a shared machine.

With ``--before REV`` the lessons and the package are both taken from that revision, so
the comparison answers "do the lessons run slower than they did at REV?"; the runs of the
two versions take turns, so a slow spell of the machine hits both.  A cell that raises
anything but the exercises' "not answered yet" marks the lesson as failed.  Nothing here
is run by the tests.
"""
import argparse
import datetime
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
CPU_CLOCK_CELL = "import time as _lesson_timer; print('cpu seconds', _lesson_timer.process_time())"
EXPECTED_ERRORS = {"NotAnswered"}   # an unanswered exercise on revisions where check() raised


def export_checkout(revision, into):
    """The repository as it was at a git ``revision`` (package, lessons and the figures they read), under ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return Path(into)


def cpu_seconds(cell):
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return float(text.split()[-1])


def run_lesson(path, package_root):
    """Execute one lesson in a fresh kernel; return (wall seconds, CPU seconds, unexpected errors)."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = ([nbformat.v4.new_code_cell(CPU_CLOCK_CELL)] + notebook.cells
                      + [nbformat.v4.new_code_cell(CPU_CLOCK_CELL)])
    environment = {"PYTHONPATH": str(package_root), "MPLBACKEND": "Agg",
                   "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)   # the kernel inherits this process's environment
    try:
        client = NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT_SECONDS, allow_errors=True,
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    first, last = notebook.cells[0], notebook.cells[-1]
    started = datetime.datetime.fromisoformat(first.metadata.execution["iopub.execute_input"].replace("Z", "+00:00"))
    finished = datetime.datetime.fromisoformat(last.metadata.execution["shell.execute_reply"].replace("Z", "+00:00"))
    errors = [f"cell {i - 1}: {o.ename}" for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
              for o in cell.outputs if o.output_type == "error" and o.ename not in EXPECTED_ERRORS]
    return (finished - started).total_seconds(), cpu_seconds(last) - cpu_seconds(first), errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="also time the lessons and package as they were at REV")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", metavar="NN,NN", help="lesson numbers to time, e.g. 02,05")
    args = parser.parse_args()

    checkouts = {"now": ROOT}
    scratch = tempfile.mkdtemp(prefix="lessons_before_")
    if args.before:
        checkouts["before"] = export_checkout(args.before, scratch)
    wanted = set(args.only.split(",")) if args.only else None
    lessons = sorted(p.name for p in (ROOT / "lessons").glob("*.ipynb") if wanted is None or p.name[:2] in wanted)

    times = {(lesson, version): {"wall": [], "cpu": []} for lesson in lessons for version in checkouts}
    failures = {}
    try:
        for repeat in range(args.repeats):
            for lesson in lessons:
                for version, root in checkouts.items():
                    path = root / "lessons" / lesson
                    if not path.exists():
                        failures[(lesson, version)] = "no such lesson at this revision"
                        continue
                    wall, cpu, errors = run_lesson(path, root)
                    if errors:
                        failures[(lesson, version)] = "; ".join(errors)
                    times[(lesson, version)]["wall"].append(wall)
                    times[(lesson, version)]["cpu"].append(cpu)
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
    print(f"\nMedians of {args.repeats} runs; one BLAS thread; load average "
          f"{os.getloadavg()[0]:.1f} at the end.\n")
    print(header + " |")
    print("|" + " --- |" * (header.count("|")))
    for lesson in lessons:
        cells = [f"{median(lesson, version, clock):.1f}" for clock in ("cpu", "wall") for version in checkouts]
        if args.before:
            cells += [f"{median(lesson, 'now', clock) / median(lesson, 'before', clock):.2f}x"
                      for clock in ("cpu", "wall")]
        print(f"| {lesson} | " + " | ".join(cells) + " |")
    for (lesson, version), message in failures.items():
        print(f"FAILED {lesson} ({version}): {message}")
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
