"""Fixtures shared by every tier: databases (SQLite and PostgreSQL), a fixed clock, a service,
and the Quận 12 sample world with a provincial campaign beside it.

Integration tests take `db_url` (or anything built on it) and so run once on SQLite and once on
PostgreSQL. PostgreSQL is THIDUA_TEST_POSTGRES_URL (default: the local server's `test` database);
each test gets its own schema. When the server cannot be reached the PostgreSQL half is skipped —
except with CI set, where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from workflow.clock import FixedClock
from workflow.db import make_engine, migrate
from workflow.demo import sample_data
from workflow.service import Service
from workflow.timeutil import VIETNAM

POSTGRES_URL = os.environ.get(
    "THIDUA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_reachable: bool | None = None


def _postgres_reachable() -> bool:
    global _reachable
    if _reachable is None:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
        try:
            with engine.connect():
                _reachable = True
        except sa.exc.OperationalError:
            _reachable = False
        finally:
            engine.dispose()
    return _reachable


def require_postgres() -> None:
    if _postgres_reachable():
        return
    message = f"PostgreSQL is not reachable at {POSTGRES_URL}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: PostgreSQL tests must run)")
    pytest.skip(message)


@contextmanager
def new_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in `folder`, or a PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'thidua.sqlite3'}"
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database on each backend."""
    with new_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


def vn(
    day: int, month: int, year: int = 2022, hour: int = 9, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=VIETNAM)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(vn(20, 4))


@pytest.fixture
def service(engine: sa.Engine, clock: FixedClock) -> Service:
    return Service(engine, clock)


#: Beside the Quận 12 sample: a provincial campaign (three tiers up to the city) and its people.
EXTRA: dict[str, Any] = {
    "units": [
        {
            "code": "79-SNV",
            "name": "Sở Nội vụ Thành phố Hồ Chí Minh",
            "level": "province",
            "kind": "agency",
            "parent": "79",
        },
        {"code": "769", "name": "Thành phố Thủ Đức", "level": "district", "parent": "79"},
        {"code": "26800", "name": "Phường Linh Trung", "level": "commune", "parent": "769"},
    ],
    "people": [
        {
            "username": "quantri.hcm",
            "name": "Quản trị Thành phố",
            "roles": [{"role": "admin", "unit": "79"}],
        },
        {
            "username": "chutich.hcm",
            "name": "Phan Văn Mãi",
            "roles": [{"role": "approver", "unit": "79"}],
        },
        {
            "username": "pho.hcm",
            "name": "Dương Anh Đức",
            "roles": [{"role": "approver", "unit": "79"}],
        },
        {
            "username": "vy.snv",
            "name": "Lâm Tường Vy",
            "roles": [{"role": "officer", "unit": "79-SNV"}],
        },
        {
            "username": "pho.q12",
            "name": "Lê Văn Thành",
            "roles": [{"role": "approver", "unit": "761"}],
        },
        {
            "username": "chutich.linhtrung",
            "name": "Ngô Thị Hoa",
            "roles": [{"role": "approver", "unit": "26800"}],
        },
        {
            "username": "khoa.linhtrung",
            "name": "Đỗ Minh Khoa",
            "roles": [{"role": "officer", "unit": "26800"}],
        },
        {
            "username": "da.nang",
            "name": "Người đa vai",
            "roles": [{"role": "approver", "unit": "26734"}, {"role": "approver", "unit": "761"}],
        },
    ],
    "campaigns": [
        {
            "code": "HCM-CCHC-2022",
            "name": "Thi đua cải cách hành chính Thành phố năm 2022",
            "issuing_unit": "79",
            "registration_deadline": "05/05/2022",
            "report_deadline": "01/12/2022",
            "tiers": ["commune", "district", "province"],
        },
    ],
}


@pytest.fixture
def world(service: Service) -> Service:
    """The sample world loaded on the service's database at 20/04/2022."""
    service.load(sample_data(), actor="quantri")
    service.load(EXTRA, actor="quantri.hcm")
    return service


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refused command wrote nothing."""
    tables = [
        "units",
        "persons",
        "role_grants",
        "campaigns",
        "nominations",
        "audit_log",
        "outbox",
        # award rounds
        "campaign_rules",
        "nomination_terms",
        "scores",
        "award_decisions",
        "decision_items",
        "publications",
        "publication_items",
        "councils",
        "council_members",
        "council_votes",
        "delegations",
        "person_channels",
        "campaign_schedules",
        "deadline_events",
        "escalations",
        "scheduler_lease",
    ]
    with engine.connect() as connection:
        return {
            table: sorted(
                (
                    tuple(map(repr, row))
                    for row in connection.exec_driver_sql(f"SELECT * FROM {table}")
                ),
            )
            for table in tables
        }
