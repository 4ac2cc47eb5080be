"""Overhead of a CPU-bound call profiled at the default period: prints best-of-N wall times and their ratio.

    PROF_SPOOL=/tmp/spool PROF_SERVER=http://127.0.0.1:9 python clients/python/bench/overhead.py
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from prof_client import profile  # noqa: E402
from prof_client._recorders import vmprof_module  # noqa: E402


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def work():
    return fib(int(os.environ.get("BENCH_FIB", "27")))


profiled = profile(project="bench")(work)


def best(fn, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


rounds = int(os.environ.get("BENCH_ROUNDS", "7"))
best(work, 2)  # warm-up (PyPy's JIT)
plain = best(work, rounds)
with_profile = best(profiled, rounds)
recorder = "vmprof" if vmprof_module() else "sampler"
print(
    "%s %s: plain %.1f ms, profiled %.1f ms, ratio %.3f"
    % (sys.implementation.name, recorder, plain * 1000, with_profile * 1000, with_profile / plain)
)
