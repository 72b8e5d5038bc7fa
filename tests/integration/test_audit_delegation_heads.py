"""Verify knows every object with its own stream: a delegation's stored version and head hash
must be what its entries say, as a campaign's must."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.integration.test_audit_tampering import execute
from workflow.service import Service


@pytest.fixture
def delegation(world: Service) -> str:
    world.add_person("vu.q12", "Trần Minh Vũ")
    made = world.delegate("chutich.q12", to="vu.q12", starts="01/06/2022", until="15/06/2022")
    return f"delegation:{made['id']}"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_delegations_stream_verifies_with_its_stored_head(
    world: Service, delegation: str, workers: int
) -> None:
    report = world.verify(workers=workers)
    assert report.ok, report.breaks


@pytest.mark.parametrize("workers", [1, 2])
def test_an_edited_delegation_version_is_named(
    world: Service, engine: sa.Engine, delegation: str, workers: int
) -> None:
    execute(engine, "UPDATE delegations SET version = version + 1")
    [found] = world.verify(workers=workers).breaks
    assert (found.stream, found.seq) == (delegation, 2)
    assert "the delegation is stored at version 2 but its stream ends at entry 1" in found.why
