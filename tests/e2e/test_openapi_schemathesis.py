"""Schemathesis against the served OpenAPI document: for every operation, generated requests
(valid and invalid) never get a 500, and every answer matches the schema declared for it.

The app runs over a SQLite file holding the Quận 12 sample (with reported dossiers), as the
administrator with a real bearer token. Generation is derandomized, so a run is repeatable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from tests.conftest import EXTRA, vn
from tests.integration.helpers import reported_ward
from workflow.clock import FixedClock
from workflow.db import make_engine, migrate
from workflow.demo import sample_data
from workflow.server import create_app
from workflow.service import Service


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    engine = make_engine(f"sqlite:///{folder / 'thidua.sqlite3'}")
    migrate(engine)
    service = Service(engine, FixedClock(vn(20, 4)))
    service.load(sample_data(), actor="quantri")
    service.load(EXTRA, actor="quantri.hcm")
    for _ in range(3):
        reported_ward(service)
    token = service.create_token("quantri")["token"]
    yield create_app(service), token
    engine.dispose()


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def _exercise(operation: Any, mode: GenerationMode, token: str) -> str | None:
    """Run one operation's generated cases; the first failure's text, or None."""
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    @settings(
        max_examples=25,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # no parameters and no body: nothing to make invalid
        assert mode is GenerationMode.NEGATIVE, operation.label
    except Exception as exc:  # a check's failure, reported with the operation it came from
        return f"{operation.label} ({mode.value}): {exc}"
    return None


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_within_its_schema(
    served: tuple[Any, str], mode: GenerationMode
) -> None:
    app, token = served
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    failures = [
        failure
        for operation in operations
        if (failure := _exercise(operation, mode, token)) is not None
    ]
    assert not failures, "\n\n".join(failures)
