"""API tokens and sign-in passwords: only hashes are stored; a revoked token, a wrong password
and an unknown person are refused alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import snapshot
from workflow.clock import FixedClock
from workflow.errors import InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from workflow.service import Service


def test_a_token_is_stored_hashed_and_refused_once_revoked(
    world: Service, engine: sa.Engine
) -> None:
    made = world.create_token("lan.pnv", name="máy trạm")
    secret = made["token"]
    assert world.authenticate(secret) == "lan.pnv"
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM api_tokens").all()
    assert len(rows) == 1
    assert all(secret not in str(value) for value in rows[0])
    assert [t["name"] for t in world.tokens("lan.pnv")] == ["máy trạm"]
    revoked = world.revoke_token(made["id"])
    assert revoked["revoked_at"] == "20/04/2022 09:00"
    with pytest.raises(Unauthenticated, match="revoked"):
        world.authenticate(secret)
    with pytest.raises(Unauthenticated, match="not a thidua API token"):
        world.authenticate("abc")
    with pytest.raises(NotFound):
        world.create_token("khong.co")
    with pytest.raises(InvalidInput):
        world.revoke_token("x")


def test_passwords_are_argon2_hashes_and_refusals_do_not_tell_who_exists(
    world: Service, engine: sa.Engine
) -> None:
    world.set_password("lan.pnv", "mật khẩu dài")
    with engine.connect() as connection:
        stored = connection.exec_driver_sql(
            "SELECT password_hash FROM persons WHERE username = 'lan.pnv'"
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "mật khẩu" not in stored
    signed = world.sign_in("lan.pnv", "mật khẩu dài")
    assert world.web_session(signed.secret).username == "lan.pnv"
    with pytest.raises(Unauthenticated) as wrong:
        world.sign_in("lan.pnv", "sai mật khẩu")
    with pytest.raises(Unauthenticated) as unknown:
        world.sign_in("khong.co", "sai mật khẩu")
    with pytest.raises(Unauthenticated) as no_password:
        world.sign_in("hung.thanhxuan", "sai mật khẩu")
    assert str(wrong.value) == str(unknown.value) == str(no_password.value)
    with pytest.raises(InvalidInput, match="characters long"):
        world.set_password("lan.pnv", "ngắn")
    world.sign_out(signed.secret)
    with pytest.raises(Unauthenticated):
        world.web_session(signed.secret)


def test_five_refused_sign_ins_hold_that_name_back_from_that_client_for_fifteen_minutes(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    world.set_password("lan.pnv", "mật khẩu dài")
    for minute in range(5):
        with pytest.raises(Unauthenticated) as wrong:
            world.sign_in("lan.pnv", f"đoán {minute}", client="203.0.113.7")
        assert not isinstance(wrong.value, TooManyAttempts)
        clock.advance(timedelta(minutes=1))
    # 09:05: the right password from that client is refused too, and not even checked
    with pytest.raises(TooManyAttempts, match="try again after 20/04/2022 09:15") as held:
        world.sign_in("LAN.PNV ", "mật khẩu dài", client="203.0.113.7")
    assert held.value.retry_at == clock.now() + timedelta(minutes=10)
    before = snapshot(engine)
    with pytest.raises(TooManyAttempts):
        world.sign_in("lan.pnv", "đoán tiếp", client="203.0.113.7")
    assert snapshot(engine) == before  # a held-back attempt is not counted: the hold does not grow
    # another client, and another name from the same client, are not held back
    assert world.sign_in("lan.pnv", "mật khẩu dài", client="198.51.100.2").username == "lan.pnv"
    with pytest.raises(Unauthenticated) as other:
        world.sign_in("hung.thanhxuan", "đoán", client="203.0.113.7")
    assert not isinstance(other.value, TooManyAttempts)
    # at 09:15 the first refusal is fifteen minutes old: the right password opens a session and
    # clears the count for that name from that client
    clock.advance(timedelta(minutes=10))
    assert world.sign_in("lan.pnv", "mật khẩu dài", client="203.0.113.7").username == "lan.pnv"
    with engine.connect() as connection:
        kept = connection.exec_driver_sql(
            "SELECT username, client FROM sign_in_failures ORDER BY id"
        ).all()
    assert [tuple(row) for row in kept] == [("hung.thanhxuan", "203.0.113.7")]
