"""Which channels and addresses a person hears notifications on.

The rule: a person's enabled channels; e-mail without an address goes to the person's e-mail.
A person who chose no channel hears by e-mail at their address. Someone with no usable channel
at all (no e-mail, or everything disabled) is still written to the log, so nothing vanishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications import CHANNELS
from workflow.directory import load_principal
from workflow.errors import InvalidInput
from workflow.tables import Person, PersonChannel
from workflow.text import optional_text

__all__ = ["Route", "channels_of", "load_channels", "routes", "set_channel"]

#: (channel, address) a message goes to.
Route = tuple[str, str | None]


def set_channel(
    session: Session, username: str, channel: str, address: str | None, enabled: bool
) -> PersonChannel:
    """Choose (or change, or switch off) one channel of a person."""
    if channel not in CHANNELS:
        raise InvalidInput(f"channel '{channel}' is not one of {', '.join(CHANNELS)}")
    principal = load_principal(session, username)
    address = optional_text(address, "address", "name")
    if channel == "email" and address is not None and "@" not in address:
        raise InvalidInput(f"e-mail '{address}' is not an e-mail address")
    if channel == "webhook" and enabled:
        if address is None:
            raise InvalidInput("a webhook channel needs its URL: --address https://…")
        if not address.startswith(("http://", "https://")):
            raise InvalidInput(f"webhook address '{address}' is not an http(s) URL")
    if channel == "email" and enabled and address is None and not principal.person.email:
        raise InvalidInput(f"{principal.username} has no e-mail address; give one with --address")
    row = session.scalars(
        select(PersonChannel).where(
            PersonChannel.person_id == principal.id, PersonChannel.channel == channel
        )
    ).one_or_none()
    if row is None:
        row = PersonChannel(person_id=principal.id, channel=channel)
        session.add(row)
    if address is not None or channel == "log":
        row.address = address
    row.enabled = enabled
    session.flush()
    return row


def channels_of(session: Session, username: str) -> list[dict[str, Any]]:
    """A person's channels as chosen, and where their messages go now."""
    principal = load_principal(session, username)
    rows = session.scalars(
        select(PersonChannel)
        .where(PersonChannel.person_id == principal.id)
        .order_by(PersonChannel.channel)
    ).all()
    chosen = [
        {"channel": r.channel, "address": r.address, "enabled": r.enabled, "chosen": True}
        for r in rows
    ]
    if rows:
        return chosen
    return [
        {"channel": channel, "address": address, "enabled": True, "chosen": False}
        for channel, address in routes(session, [principal.id])[principal.id]
    ]


def routes(session: Session, person_ids: Iterable[int]) -> dict[int, list[Route]]:
    """Where each person's messages go now, by the rule in this module's docstring."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    emails = dict(session.execute(select(Person.id, Person.email).where(Person.id.in_(ids))).all())
    chosen: dict[int, list[PersonChannel]] = {}
    for row in session.scalars(
        select(PersonChannel)
        .where(PersonChannel.person_id.in_(ids))
        .order_by(PersonChannel.person_id, PersonChannel.channel)
    ):
        chosen.setdefault(row.person_id, []).append(row)
    result: dict[int, list[Route]] = {}
    for person_id in ids:
        email = emails.get(person_id)
        if person_id in chosen:
            found: list[Route] = []
            for row in chosen[person_id]:
                address = row.address or (email if row.channel == "email" else None)
                if row.enabled and (address or row.channel == "log"):
                    found.append((row.channel, address))
        else:
            found = [("email", email)] if email else []
        result[person_id] = found or [("log", None)]
    return result


def load_channels(session: Session, data: Mapping[str, Any]) -> int:
    """The `channels` of each [[people]] entry of a loaded file: [{channel, address, enabled}]."""
    count = 0
    for record in data.get("people", []):
        channels = record.get("channels", [])
        if not isinstance(channels, list) or not all(isinstance(c, Mapping) for c in channels):
            raise InvalidInput(
                f"people '{record.get('username')}': 'channels' is a list of tables "
                "with channel, address and enabled"
            )
        for chosen in channels:
            if "channel" not in chosen:
                raise InvalidInput(f"people '{record.get('username')}': a channel has no 'channel'")
            set_channel(
                session,
                record["username"],
                chosen["channel"],
                chosen.get("address"),
                bool(chosen.get("enabled", True)),
            )
            count += 1
    return count
