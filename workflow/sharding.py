"""Verify or replay the audit log with several worker processes, one share of the streams each.

A stream's checks and replay need only its own entries and its own object's row, so the log
splits by stream: worker k of n reads the streams whose object id is k modulo n, with those
nominations and campaigns (workflow.scanning.Share), in its own read transaction, and returns its
report; the reports are merged here. Each share is read consistently (a stream and its object
come from one snapshot); shares are read side by side, so an entry appended during the run is seen
by its own share or not at all, as with one process that started a moment earlier or later.

Workers are separate processes (the hashing and replay are pure Python and hold the GIL), each
with its own engine built from the service's URL. They count the entries they have read in one
shared counter, which the parent turns into the usual progress calls. A checkpoint's Merkle root
needs every entry in id order in one pass, so `verify --checkpoint` always runs in one process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

from sqlalchemy import Engine

from workflow.audit import VerifyReport
from workflow.db import READ_ONLY, make_engine
from workflow.replaying import ReplayReport, replay_log
from workflow.verifying import PROGRESS_EVERY, verify_log

__all__ = ["AUTO_FROM", "auto_workers", "replay_shared", "verify_shared"]

_T = TypeVar("_T")
#: Below this many entries one process is done before more would have started.
AUTO_FROM = 200_000
#: At most this many processes by default: each one reads the whole table past its share.
AUTO_MAX = 8
_counter: Any = None  # the shared entry counter, set in each worker by `_start`


def _start(counter: Any) -> None:
    global _counter
    _counter = counter


def _counting() -> Callable[[int], None]:
    """A progress callback that adds a worker's newly read entries to the shared counter."""
    seen = [0]

    def progress(done: int) -> None:
        with _counter.get_lock():
            _counter.value += done - seen[0]
        seen[0] = done

    return progress


def _verify_share(url: str, workers: int, index: int) -> VerifyReport:
    engine = make_engine(url).execution_options(**READ_ONLY)
    try:
        with engine.connect() as connection, connection.begin():
            report = verify_log(connection, _counting(), share=(workers, index))
    finally:
        engine.dispose()
    return report


def _replay_share(
    url: str, workers: int, index: int, as_of: str | None, campaign: str | None
) -> ReplayReport:
    engine = make_engine(url).execution_options(**READ_ONLY)
    try:
        with engine.connect() as connection, connection.begin():
            report = replay_log(
                connection,
                as_of=as_of,
                campaign=campaign,
                progress=_counting(),
                share=(workers, index),
            )
    finally:
        engine.dispose()
    return report


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _run(
    workers: int,
    task: Callable[..., _T],
    args: Callable[[int], tuple[Any, ...]],
    progress: Callable[[int], None] | None,
) -> list[_T]:
    """Run `task(*args(k))` for each share k in its own process; the results in share order."""
    context = _context()
    counter = context.Value("q", 0)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start, initargs=(counter,)
    ) as pool:
        futures: list[Future[_T]] = [pool.submit(task, *args(k)) for k in range(workers)]
        shown = 0
        while True:
            done, pending = wait(futures, timeout=0.25, return_when=FIRST_EXCEPTION)
            if progress is not None:
                while shown + PROGRESS_EVERY <= counter.value:
                    shown += PROGRESS_EVERY
                    progress(shown)
            if not pending or any(f.exception() is not None for f in done):
                break
        return [future.result() for future in futures]  # re-raises a worker's error


def auto_workers(engine: Engine) -> int:
    """Processes for a scan when nobody said: one per CPU this process may use (at most
    AUTO_MAX), or one for a log of fewer than AUTO_FROM entries."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cpus or cpus < 2:
        return 1
    with engine.connect() as connection:
        last = connection.exec_driver_sql("SELECT max(id) FROM audit_log").scalar() or 0
    return min(cpus, AUTO_MAX) if last >= AUTO_FROM else 1


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def verify_shared(
    engine: Engine, workers: int, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """`verify_log` over `workers` processes: the same breaks (grouped by share), one report."""
    url = _url(engine)
    parts = _run(workers, _verify_share, lambda k: (url, workers, k), progress)
    report = VerifyReport()
    for part in parts:
        report.entries += part.entries
        report.streams += part.streams
        report.breaks += part.breaks
    return report


def replay_shared(
    engine: Engine,
    workers: int,
    *,
    as_of: str | None = None,
    campaign: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """`replay_log` over `workers` processes: the same report, nominations in id order."""
    url = _url(engine)
    parts = _run(workers, _replay_share, lambda k: (url, workers, k, as_of, campaign), progress)
    report = ReplayReport()
    for part in parts:
        report.entries += part.entries
        report.nominations += part.nominations
    report.nominations.sort(key=lambda item: item.nomination)
    return report
