"""How many BLAS threads serve this project's models?  One process, runs paired by turns.

    python benchmarks/threads.py                   # 1 thread against one per core, 3 rounds
    python benchmarks/threads.py --threads 1,2,4 --rounds 5

Trains a few lesson models for a few epochs each (VQ autoencoder, binary network,
categorical autoencoder, glimpse model: matrices of a few hundred rows at most) with
each thread count in turn, set by ``tg.set_num_threads``.  Within a round every workload
runs once per thread count, the order reversed every other round, so a slow spell of a
shared machine hits every count alike.  Two clocks: wall-clock time, and the process's
CPU time, which counts every BLAS thread (a thread that spins waiting for work costs CPU
time another job could have used).  Prints medians over the rounds, the ratio to one
thread, the load average, and checks that every thread count gives the same test error.
"""
import argparse
import os
import time

import numpy as np

import tinygrad_ste as tg
from tinygrad_ste.models import (train_binary_network, train_categorical_autoencoder, train_glimpse_model,
                                 train_vq_autoencoder)

WORKLOADS = {   # name -> () -> the number that must not depend on the thread count
    "VQ autoencoder, lesson 5 size, 5 epochs": lambda: train_vq_autoencoder(
        num_codes=128, codes_per_image=8, code_dim=8, hidden=64, epochs=5).test_mse,
    "binary network, 128 hidden, 3 epochs": lambda: train_binary_network("identity", hidden=128, epochs=3).test_accuracy,
    "categorical autoencoder, Gumbel, 2 epochs": lambda: train_categorical_autoencoder("gumbel", epochs=2).test_mse,
    "glimpse model, straight-through, 3 epochs": lambda: train_glimpse_model("straight_through", epochs=3).test_accuracy,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}", help="thread counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    counts = [int(n) for n in args.threads.split(",")]
    wall, cpu, results = ({(name, n): [] for name in WORKLOADS for n in counts} for _ in range(3))
    print(f"load average at the start {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)", flush=True)
    for round_ in range(args.rounds):
        for name, train in WORKLOADS.items():
            for n in (counts if round_ % 2 == 0 else counts[::-1]):
                tg.set_num_threads(n)
                wall_start, cpu_start = time.perf_counter(), time.process_time()
                results[name, n].append(train())
                wall[name, n].append(time.perf_counter() - wall_start)
                cpu[name, n].append(time.process_time() - cpu_start)
                print(f"round {round_ + 1} {name}, {n} thread(s): wall {wall[name, n][-1]:.2f} s, "
                      f"CPU {cpu[name, n][-1]:.2f} s", flush=True)
    tg.set_num_threads(tg.threads.DEFAULT_NUM_THREADS)

    print(f"\nMedians of {args.rounds} rounds; load average {os.getloadavg()[0]:.1f} at the end.\n")
    columns = [f"{clock} {n} thr (s)" for clock in ("CPU", "wall") for n in counts]
    columns += [f"{clock} {n}/1" for clock in ("CPU", "wall") for n in counts[1:]]
    print("| workload | " + " | ".join(columns) + " | same numbers |")
    print("|" + " --- |" * (len(columns) + 2))
    for name in WORKLOADS:
        cells = [f"{np.median(clock[name, n]):.2f}" for clock in (cpu, wall) for n in counts]
        cells += [f"{np.median(clock[name, n]) / np.median(clock[name, counts[0]]):.2f}x"
                  for clock in (cpu, wall) for n in counts[1:]]
        same = all(value == results[name, counts[0]][0] for n in counts for value in results[name, n])
        print(f"| {name} | " + " | ".join(cells) + f" | {'yes' if same else 'NO'} |")


if __name__ == "__main__":
    main()
