"""Small builders shared by the integration tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import snapshot
from workflow.errors import WorkflowError
from workflow.service import Service
from workflow.views import NominationView

Q12 = "Q12-CCHC-2022"
HCM = "HCM-CCHC-2022"


def register_ward(
    service: Service,
    *,
    campaign: str = Q12,
    officer: str = "hung.thanhxuan",
    unit: str = "26734",
    name: str = "Bộ phận Một cửa",
) -> NominationView:
    return service.register(
        officer,
        campaign=campaign,
        unit=unit,
        nominee_kind="collective",
        nominee_name=name,
        title="Số hoá hồ sơ thủ tục hành chính",
        area="thu_tuc_hanh_chinh",
    )


def reported_ward(service: Service, **kwargs: str) -> NominationView:
    view = register_ward(service, **kwargs)
    officer = kwargs.get("officer", "hung.thanhxuan")
    service.implement(officer, view.id)
    return service.report(officer, view.id)


def refused(
    engine: sa.Engine,
    error: type[WorkflowError],
    action: Callable[[], Any],
    match: str | None = None,
) -> WorkflowError:
    """Run `action`, expect `error`, and show that nothing was written."""
    before = snapshot(engine)
    with pytest.raises(error, match=match) as caught:
        action()
    assert snapshot(engine) == before
    return caught.value


def replay_entries(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """Audit rows as `states.replay` reads them."""
    return [
        {
            "seq": e.seq,
            "trigger": e.trigger,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "payload": json.loads(e.payload),
        }
        for e in rows
    ]


def two_tier_world(
    *,
    province: tuple[str, str],
    commune: tuple[str, str],
    people: list[tuple[str, str, str, str]],
    campaign: dict[str, Any],
) -> dict[str, Any]:
    """A province (code, name) with one commune under it, people as (username, name, role,
    unit), and one campaign: the data `Service.load` takes."""
    return {
        "units": [
            {"code": province[0], "name": province[1], "level": "province"},
            {"code": commune[0], "name": commune[1], "level": "commune", "parent": province[0]},
        ],
        "people": [
            {"username": username, "name": name, "roles": [{"role": role, "unit": unit}]}
            for username, name, role, unit in people
        ],
        "campaigns": [campaign],
    }
