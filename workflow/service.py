"""The service: one object over a database, whose every command takes the acting person.

Each command is one transaction you can read top to bottom: open, load, check, change, append
audit, commit — and roll back on any error, so a refused command writes nothing. Foreign errors
(SQLAlchemy's) are translated here, keeping their cause.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from states import Trigger
from workflow import audit, campaigns, directory, nominations, queries
from workflow.clock import Clock, SystemClock
from workflow.db import READ_ONLY
from workflow.errors import Conflict, InvalidInput, WorkflowError
from workflow.tables import Campaign, Unit
from workflow.text import clean_text, optional_text
from workflow.timeutil import format_local, parse_date
from workflow.views import EntryView, NominationView

__all__ = ["Service"]

log = structlog.get_logger("thidua")


_ID = re.compile(r"[0-9]{1,19}")


def _nomination_id(value: object) -> int:
    plain = isinstance(value, int | str) and not isinstance(value, bool)
    text = str(value).strip() if plain else ""
    # Only plain ASCII digits: int() would also read "0_1" or Arabic-Indic digits as a number.
    number = int(text) if _ID.fullmatch(text) else -1
    if number < 1 or number > 2**62:
        raise InvalidInput(f"nomination id '{value}' is not a positive whole number")
    return number


class Service:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._reader = engine.execution_options(**READ_ONLY)

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _write(self, command: str, **context: Any) -> Iterator[Session]:
        """One command's transaction: commit on success, roll back on any error."""
        with structlog.contextvars.bound_contextvars(
            command=command, command_id=uuid.uuid4().hex, **context
        ):
            session = Session(self.engine, expire_on_commit=False, autoflush=False)
            try:
                yield session
                session.commit()
            except WorkflowError as exc:
                session.rollback()
                log.info("command.refused", error=exc.code, message=str(exc))
                raise
            except StaleDataError as exc:
                session.rollback()
                raise self._conflict(context, exc) from exc
            except IntegrityError as exc:
                session.rollback()
                if "uq_audit_stream_seq" in str(exc.orig) or "audit_log.stream" in str(exc.orig):
                    raise self._conflict(context, exc) from exc
                raise
            except OperationalError as exc:
                session.rollback()
                if "locked" in str(exc.orig) or "could not serialize" in str(exc.orig):
                    raise Conflict(
                        f"the database was busy and '{command}' was not applied; try again"
                    ) from exc
                raise
            finally:
                session.close()
            log.info("command.done")

    @staticmethod
    def _conflict(context: Mapping[str, Any], exc: Exception) -> Conflict:
        target = context.get("nomination")
        what = f"nomination {target}" if target is not None else "the record"
        log.info("command.conflict", message=str(exc))
        return Conflict(
            f"{what} was changed by someone else while this command ran; nothing was applied — "
            "reload it and try again"
        )

    def _read(self) -> Session:
        return Session(self._reader, expire_on_commit=False)

    # -- administration ------------------------------------------------------------------------

    def add_unit(
        self,
        code: str,
        name: str,
        level: str,
        parent: str | None = None,
        kind: str = "administrative",
    ) -> str:
        with self._write("add_unit", unit=code) as session:
            return directory.add_unit(session, code, name, level, parent, kind).code

    def import_units(
        self,
        records: Sequence[Mapping[str, Any]],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        with self._write("import_units") as session:
            return directory.load_units(session, records, progress)

    def add_person(self, username: str, full_name: str, email: str | None = None) -> str:
        with self._write("add_person", person=username) as session:
            return directory.add_person(session, username, full_name, email).username

    def grant_role(self, username: str, role: str, unit: str) -> None:
        with self._write("grant_role", person=username, role=role, unit=unit) as session:
            directory.grant_role(session, username, role, unit)

    def create_campaign(self, actor: str, spec: campaigns.CampaignSpec) -> str:
        with self._write("create_campaign", actor=actor) as session:
            principal = directory.load_principal(session, actor)
            return campaigns.create_campaign(session, principal, spec, self.clock.now()).code

    def load(self, data: Mapping[str, Any], actor: str | None = None) -> dict[str, int]:
        """Load [[units]], [[people]] and [[campaigns]] of a file in one transaction."""
        specs = data.get("campaigns", [])
        if not isinstance(specs, list):
            raise InvalidInput("'campaigns' must be a list of tables ([[campaigns]])")
        unknown = sorted(set(data) - {"units", "people", "campaigns"})
        if unknown:
            raise InvalidInput(f"unknown sections: {', '.join(unknown)}")
        if specs and actor is None:
            raise InvalidInput("creating campaigns needs the acting admin (--as)")
        with self._write("load", actor=actor) as session:
            counts = directory.load_directory(session, data)
            if specs and actor is not None:
                principal = directory.load_principal(session, actor)
                for spec in specs:
                    campaigns.create_campaign(
                        session,
                        principal,
                        campaigns.CampaignSpec.from_mapping(spec),
                        self.clock.now(),
                    )
            counts["campaigns"] = len(specs)
            return counts

    # -- nomination commands -------------------------------------------------------------------

    def register(
        self,
        actor: str,
        *,
        campaign: str,
        unit: str,
        nominee_kind: str,
        nominee_name: str,
        title: str,
        area: str,
        nominee: str | None = None,
    ) -> NominationView:
        with self._write("register", actor=actor, campaign=campaign) as session:
            principal = directory.load_principal(session, actor)
            found: Campaign = campaigns.campaign_by_code(session, campaign)
            created = nominations.register(
                session,
                principal,
                self.clock.now(),
                campaign=found,
                unit_code=unit,
                nominee_kind=nominee_kind,
                nominee_name=nominee_name,
                title=title,
                area=area,
                nominee_username=nominee,
            )
            log.info("nomination.registered", nomination=created.id)
        return queries.nomination_view(created, principal.username)

    def _officer(
        self, trigger: str, actor: str, nomination_id: object, reason: str | None = None
    ) -> NominationView:
        number = _nomination_id(nomination_id)
        with self._write(trigger, actor=actor, nomination=number) as session:
            principal = directory.load_principal(session, actor)
            nomination, proposer = nominations.load_with_proposer(session, number)
            nominations.officer_step(
                principal, nomination, trigger, self.clock.now(), session, reason
            )
        return queries.nomination_view(nomination, proposer)

    def _review(
        self, trigger: str, actor: str, nomination_id: object, reason: str | None = None
    ) -> NominationView:
        number = _nomination_id(nomination_id)
        with self._write(trigger, actor=actor, nomination=number) as session:
            principal = directory.load_principal(session, actor)
            nomination, proposer = nominations.load_with_proposer(session, number)
            nominations.review(principal, nomination, trigger, self.clock.now(), session, reason)
        return queries.nomination_view(nomination, proposer)

    def implement(self, actor: str, nomination_id: object) -> NominationView:
        return self._officer(Trigger.IMPLEMENT, actor, nomination_id)

    def report(self, actor: str, nomination_id: object) -> NominationView:
        return self._officer(Trigger.REPORT, actor, nomination_id)

    def resubmit(
        self, actor: str, nomination_id: object, note: str | None = None
    ) -> NominationView:
        return self._officer(Trigger.RESUBMIT, actor, nomination_id, optional_text(note, "note"))

    def withdraw(self, actor: str, nomination_id: object, reason: str) -> NominationView:
        return self._officer(
            Trigger.WITHDRAW,
            actor,
            nomination_id,
            clean_text(reason, "reason", "reason"),
        )

    def approve(
        self, actor: str, nomination_id: object, comment: str | None = None
    ) -> NominationView:
        return self._review(
            Trigger.APPROVE, actor, nomination_id, optional_text(comment, "comment")
        )

    def return_for_supplement(
        self, actor: str, nomination_id: object, reason: str
    ) -> NominationView:
        return self._review(
            Trigger.RETURN, actor, nomination_id, clean_text(reason, "reason", "reason")
        )

    def reject(self, actor: str, nomination_id: object, reason: str) -> NominationView:
        return self._review(
            Trigger.REJECT, actor, nomination_id, clean_text(reason, "reason", "reason")
        )

    def award(
        self, actor: str, nomination_id: object, *, number: str, date: str, form: str
    ) -> NominationView:
        decided_on = parse_date(date, "decision date")
        form = clean_text(form, "award form")
        nomination_number = _nomination_id(nomination_id)
        with self._write("award", actor=actor, nomination=nomination_number) as session:
            principal = directory.load_principal(session, actor)
            nomination, proposer = nominations.load_with_proposer(session, nomination_number)
            nominations.award(
                principal,
                nomination,
                self.clock.now(),
                session,
                number=number,
                decided_on=decided_on,
                form=form,
            )
        return queries.nomination_view(nomination, proposer)

    # -- queries -------------------------------------------------------------------------------

    def show(self, nomination_id: object) -> NominationView:
        with self._read() as session:
            return queries.show(session, _nomination_id(nomination_id))

    def list_nominations(
        self,
        *,
        campaign: str | None = None,
        state: str | None = None,
        unit: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[NominationView]:
        with self._read() as session:
            return queries.list_nominations(
                session,
                campaign=campaign,
                state=state,
                unit=unit,
                limit=limit,
                offset=offset,
            )

    def units(self) -> list[dict[str, Any]]:
        with self._read() as session:
            rows = session.execute(
                select(Unit.code, Unit.name, Unit.level, Unit.kind, Unit.path).order_by(Unit.path)
            )
            return [
                {
                    "code": code,
                    "name": name,
                    "level": level,
                    "kind": kind,
                    "depth": path.count("/") - 2,
                }
                for code, name, level, kind, path in rows
            ]

    def campaigns(self) -> list[dict[str, Any]]:
        with self._read() as session:
            rows = session.execute(
                select(Campaign, Unit.code)
                .join(Unit, Campaign.issuing_unit_id == Unit.id)
                .order_by(Campaign.id)
            )
            return [
                {
                    "code": c.code,
                    "name": c.name,
                    "issuing_unit": unit,
                    "award_level": c.award_level,
                    "tiers": c.tiers.split(","),
                    "registration_deadline": format_local(c.registration_deadline),
                    "report_deadline": format_local(c.report_deadline),
                }
                for c, unit in rows
            ]

    def inbox(self, actor: str, limit: int = 100, offset: int = 0) -> list[NominationView]:
        with self._read() as session:
            return queries.inbox(session, directory.load_principal(session, actor), limit, offset)

    def history(self, nomination_id: object) -> list[EntryView]:
        number = _nomination_id(nomination_id)
        with self._read() as session:
            queries.show(session, number)
            return queries.history(session, f"nomination:{number}")

    def verify(self, progress: Callable[[int], None] | None = None) -> audit.VerifyReport:
        with self._read() as session:
            return audit.verify(session, progress)

    def now(self) -> datetime:
        return self.clock.now()
