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

from tests.conftest import POSTGRES_URL, require_postgres

BENCH = Path(__file__).resolve().parents[2] / "bench"

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("script", "args", "keys"),
    [
        ("chain.py", ["--n", "3", "--no-memory"], {"sqlite"}),
        ("audit.py", ["--n", "70"], {"sqlite"}),
        ("deadlines.py", ["--n", "20", "--verify"], {"sqlite"}),
        ("delivery.py", ["--n", "5", "--chain-n", "2", "--repeat", "1"], {"sqlite"}),
        ("api.py", ["--n", "4", "--clients", "3"], {"sqlite"}),
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


@pytest.mark.postgres
def test_the_api_benchmark_on_postgresql_loses_no_update(tmp_path: Path) -> None:
    """The issue's own workload, tiny: `thidua serve` on PostgreSQL, every approval answered
    2xx and in the audit log once, the server stopped cleanly."""
    require_postgres()
    options = ["--n", "6", "--clients", "4", "--backends", "postgresql", "--pg-url", POSTGRES_URL]
    done = subprocess.run(
        [sys.executable, str(BENCH / "api.py"), *options],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])["postgresql"]
    assert (figures["requests"], figures["ok"], figures["errors"]) == (18, 18, 0)
    assert figures["audit_approve_entries"] == 18
    assert figures["no_lost_update"] is True
    assert figures["server_exit"] == 0
