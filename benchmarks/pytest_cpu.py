"""A pytest plugin for measuring the test suite: each test's wall time and CPU time (this process
and its reaped children, user + system), one JSON line per test, in `<PYTEST_CPU_OUT>-<worker>.jsonl`
(one file per xdist worker). On a shared machine the CPU time is the fair figure; wall time grows
with everyone else's load.

    PYTHONPATH=benchmarks PYTEST_CPU_OUT=/tmp/suite python -m pytest -p pytest_cpu -n 2 --dist loadgroup
    python benchmarks/pytest_cpu.py /tmp/suite       # per worker, slowest tests and modules by CPU
"""

from __future__ import annotations

import collections
import glob
import json
import os
import resource
import sys
import time
from collections.abc import Iterator

import pytest


def _cpu_s() -> tuple[float, float]:
    """(this process, its reaped children) user + system CPU time, s."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    started, (own, children) = time.time(), _cpu_s()
    yield  # setup, call and teardown
    own_after, children_after = _cpu_s()
    line = {
        "id": item.nodeid,
        "worker": worker,
        "start": started,
        "wall": time.time() - started,
        "cpu": own_after - own,
        "child": children_after - children,
    }
    with open(f"{os.environ.get('PYTEST_CPU_OUT', 'pytest-cpu')}-{worker}.jsonl", "a") as out:
        out.write(json.dumps(line) + "\n")


def summary(prefix: str, top: int = 20) -> None:
    """Print per-worker totals, the `top` tests and modules by CPU of a run written to `prefix`."""
    rows = []
    for path in glob.glob(f"{prefix}-*.jsonl"):
        with open(path) as lines:
            rows += [json.loads(line) for line in lines]
    if not rows:
        raise SystemExit(f"no {prefix}-*.jsonl: run pytest with -p pytest_cpu and PYTEST_CPU_OUT={prefix}")
    start = min(r["start"] for r in rows)
    for worker in sorted({r["worker"] for r in rows}):
        mine = [r for r in rows if r["worker"] == worker]
        end = max(r["start"] + r["wall"] for r in mine) - start
        cpu = sum(r["cpu"] + r["child"] for r in mine)
        print(f"{worker}: {len(mine)} tests, last ends at {end:.0f} s, CPU {cpu:.1f} s")
    print(f"all: {len(rows)} tests, CPU {sum(r['cpu'] + r['child'] for r in rows):.1f} s")
    rows.sort(key=lambda r: -(r["cpu"] + r["child"]))
    print("    CPU s   wall s  test")
    for r in rows[:top]:
        print(f"{r['cpu'] + r['child']:9.1f} {r['wall']:8.1f}  {r['id'].split('@')[0]}")
    modules: collections.Counter[str] = collections.Counter()
    for r in rows:
        modules[r["id"].split("::")[0]] += r["cpu"] + r["child"]
    print("    CPU s  module")
    for name, cpu in modules.most_common(top):
        print(f"{cpu:9.1f}  {name}")


if __name__ == "__main__":
    summary(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20)
