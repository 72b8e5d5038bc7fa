"""Each benchmark script still runs end to end on a tiny workload and ends with its JSON line.

The figures themselves are not judged here (speed is read from the benchmarks' own output, never
asserted in a test): this only keeps the scripts from rotting as the service changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POSTGRES_URL, require_postgres

BENCH = Path(__file__).resolve().parents[2] / "bench"

pytestmark = pytest.mark.slow


def run_bench(script: str, options: list[str], folder: Path) -> tuple[dict[str, Any], str]:
    """Run a benchmark script to its end: its last line's JSON figures, and all it printed."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *options],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout


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
    figures, _ = run_bench(script, [*args, "--backends", "sqlite"], tmp_path)
    assert keys <= set(figures), figures


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_chain_benchmark_replays_the_services_own_statements(
    backend: str, tmp_path: Path
) -> None:
    """The replay sends what the service sent, through the bare driver, to a second database
    (the script stops with an error when the two audit logs differ) and prints its figures."""
    if backend == "postgresql":
        require_postgres()
    options = ["--n", "3", "--no-memory", "--backends", backend, "--pg-url", POSTGRES_URL]
    everything, printed = run_bench("chain.py", options, tmp_path)
    figures = everything[backend]
    assert figures["replay_tps"] > 0
    # The figures are printed rounded (rates to 0.1): the arithmetic holds to a percent.
    ratio = figures["replay_tps"] / figures["bare_tps"]
    assert figures["replay_ratio"] == pytest.approx(ratio, rel=0.01)
    spent = 1e6 / figures["service_tps"] - 1e6 / figures["replay_tps"]
    assert figures["beyond_statements_us"] == pytest.approx(spent, rel=0.01)
    assert "replayed through the bare driver" in printed


@pytest.mark.postgres
def test_the_api_benchmark_on_postgresql_loses_no_update(tmp_path: Path) -> None:
    """The issue's own workload, tiny: `thidua serve` on PostgreSQL, every approval answered
    2xx and in the audit log once, the server stopped cleanly."""
    require_postgres()
    options = ["--n", "6", "--clients", "4", "--backends", "postgresql", "--pg-url", POSTGRES_URL]
    everything, _ = run_bench("api.py", options, tmp_path)
    figures = everything["postgresql"]
    assert (figures["requests"], figures["ok"], figures["errors"]) == (18, 18, 0)
    # The floor: the same 18 requests to the same route on FastAPI doing nothing, all 200.
    assert (everything["floor"]["requests"], everything["floor"]["errors"]) == (18, 0)
    assert figures["audit_approve_entries"] == 18
    assert figures["no_lost_update"] is True
    assert figures["server_exit"] == 0
    # The machine's CPU budget: server, PostgreSQL (read from /proc) and the clients together.
    assert figures["database_cpu_ms_per_request"] is not None
    bound = figures["cpu_bound_requests_per_s"]
    assert figures["latency_floor_ms"] == pytest.approx(4 / bound * 1000, rel=0.01)
