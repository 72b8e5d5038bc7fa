"""The `thidua` command line as the end-to-end tests run it: a real process, its output parsed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any


def thidua(
    url: str,
    *args: str,
    log_level: str | None = None,
    url_in_env: bool = False,
    env: Mapping[str, str] | None = None,
    code: int | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """`python -m workflow.cli ARGS` against `url`, in a clean THIDUA_* environment.

    The URL goes to `--db`, or with `url_in_env` to THIDUA_DATABASE_URL; `env` adds variables;
    with `code` the command must exit with it.
    """
    environment = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    environment["PYTHONIOENCODING"] = "utf-8"
    if log_level is not None:
        environment["THIDUA_LOG_LEVEL"] = log_level
    argv = [sys.executable, "-m", "workflow.cli", *args]
    if url_in_env:
        environment["THIDUA_DATABASE_URL"] = url
    else:
        argv += ["--db", url]
    environment.update(env or {})
    result = subprocess.run(
        argv,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    if code is not None:
        assert result.returncode == code, (
            f"exit {result.returncode}, expected {code}\n{result.stdout}\n{result.stderr}"
        )
    return result


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The stdout of a command that must have succeeded."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def error_of(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON error object on the last line of stderr."""
    return json.loads(result.stderr.strip().splitlines()[-1])
