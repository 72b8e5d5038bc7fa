"""Each benchmark script still runs end to end on a tiny workload and ends with its JSON line.

The figures themselves are not judged here (speed is read from the benchmarks' own output, never
asserted in a test): this only keeps the scripts from rotting as the service changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("script", "args", "keys"),
    [
        ("chain.py", ["--n", "3", "--no-memory"], {"sqlite"}),
        ("audit.py", ["--n", "70"], {"sqlite"}),
        ("deadlines.py", ["--n", "20", "--verify"], {"sqlite"}),
        ("delivery.py", ["--n", "5", "--chain-n", "2", "--repeat", "1"], {"sqlite"}),
    ],
)
def test_a_benchmark_runs_on_a_tiny_workload_and_ends_with_its_json_figures(
    script: str, args: list[str], keys: set[str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args, "--backends", "sqlite"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert keys <= set(figures), figures
