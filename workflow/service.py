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
from workflow import (
    access,
    audit,
    award_queue,
    campaigns,
    checkpoints,
    councils,
    deadline_queries,
    deadlines,
    decision_history,
    decisions,
    delegations,
    directory,
    encoding,
    export,
    nominations,
    outbox,
    person_channels,
    public_comment,
    queries,
    replaying,
    reviews,
    round_rules,
    schedules,
    scores,
    sharding,
    verifying,
    visibility,
    votes,
)
from workflow.clock import Clock, SystemClock
from workflow.db import READ_ONLY
from workflow.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
    WorkflowError,
)
from workflow.tables import Campaign, Nomination, Unit
from workflow.text import clean_text, optional_text
from workflow.timeutil import format_local, parse_date
from workflow.views import EntryView, NominationView

__all__ = ["Service"]

log = structlog.get_logger("thidua")


_ID = re.compile(r"[0-9]{1,19}")


def _nomination_id(value: object, what: str = "nomination") -> int:
    plain = isinstance(value, int | str) and not isinstance(value, bool)
    text = str(value).strip() if plain else ""
    # Only plain ASCII digits: int() would also read "0_1" or Arabic-Indic digits as a number.
    number = int(text) if _ID.fullmatch(text) else -1
    if number < 1 or number > 2**62:
        raise InvalidInput(f"{what} id '{value}' is not a positive whole number")
    return number


class Service:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._reader = engine.execution_options(**READ_ONLY)
        #: One-statement lookups (a bearer token on every API request), on a plain connection:
        #: on PostgreSQL without BEGIN and COMMIT around the statement, two round trips fewer;
        #: one statement reads a consistent snapshot by itself.
        self._lookup = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else self._reader
        )

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _write(self, command: str, **context: Any) -> Iterator[Session]:
        """One command's transaction (see `_transaction`); a command on nominations (`actor`
        and `nomination` or `nominations` in its context) that fails on a state tells someone
        outside a nomination's reach only that it is outside their reach (Forbidden,
        unit_scope), so a wrong-state answer never reveals another unit's dossier. Refusals
        keep their own rule: they name the actor's missing right, not the dossier's state."""
        try:
            with self._transaction(command, **context) as session:
                yield session
        except Conflict:
            actor = context.get("actor")
            single = context.get("nomination")
            numbers = [single] if single is not None else context.get("nominations", [])
            if actor is not None and numbers:
                with self._read() as session:
                    reach = self._reach(session, actor)
                    for number in numbers:
                        visibility.check_nomination(session, reach, number)
            raise

    @contextmanager
    def _transaction(self, command: str, **context: Any) -> Iterator[Session]:
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
            person_channels.load_channels(session, data)
            if specs and actor is not None:
                principal = directory.load_principal(session, actor)
                for spec in specs:
                    spec, council_specs = councils.split_spec(spec)
                    created = campaigns.create_campaign(
                        session,
                        principal,
                        campaigns.CampaignSpec.from_mapping(spec),
                        self.clock.now(),
                    )
                    councils.set_all(session, principal, self.clock.now(), created, council_specs)
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
        form: str | None = None,
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
                form=form,
            )
            log.info("nomination.registered", nomination=created.id)
        return queries.nomination_view(created, principal.username)

    def _officer(
        self, trigger: str, actor: str, nomination_id: object, reason: str | None = None
    ) -> NominationView:
        number = _nomination_id(nomination_id)
        with self._write(trigger, actor=actor, nomination=number) as session:
            principal, nomination, proposer = nominations.load_for(session, actor, number)
            nominations.officer_step(
                principal, nomination, trigger, self.clock.now(), session, reason
            )
        return queries.nomination_view(nomination, proposer)

    def _review(
        self, trigger: str, actor: str, nomination_id: object, reason: str | None = None
    ) -> NominationView:
        number = _nomination_id(nomination_id)
        with self._write(trigger, actor=actor, nomination=number) as session:
            principal, nomination, proposer = nominations.load_for(session, actor, number)
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
        """A decision of one: see `decide` for a batch."""
        number_id = _nomination_id(nomination_id)
        ((nomination, proposer),) = self._decide(actor, [number_id], number, date, form)
        return queries.nomination_view(nomination, proposer)

    # -- queries -------------------------------------------------------------------------------

    def show(self, nomination_id: object, reader: str | None = None) -> NominationView:
        """A nomination; with `reader`, only when their roles reach it (else Forbidden)."""
        number = _nomination_id(nomination_id)
        with self._read() as session:
            self._check_reader(session, reader, number)
            return queries.show(session, number)

    def list_nominations(
        self,
        *,
        campaign: str | None = None,
        state: str | None = None,
        unit: str | None = None,
        limit: int = 100,
        offset: int = 0,
        reader: str | None = None,
    ) -> list[NominationView]:
        """A page of nominations; with `reader`, only those their roles reach."""
        with self._read() as session:
            where = None
            if reader is not None:
                where = self._reach(session, reader).condition()
            return queries.list_nominations(
                session,
                campaign=campaign,
                state=state,
                unit=unit,
                limit=limit,
                offset=offset,
                where=where,
            )

    def _reach(self, session: Session, reader: str) -> visibility.Reach:
        principal = directory.load_principal(session, reader)
        return visibility.reach_of(session, principal, self.clock.now())

    def _require(self, reader: str | None, *roles: str) -> None:
        """With `reader`, Forbidden unless they hold one of `roles` (auditors', admins' reads)."""
        if reader is not None:
            with self._read() as session:
                visibility.require_role(directory.load_principal(session, reader), *roles)

    def _check_reader(self, session: Session, reader: str | None, number: int) -> None:
        if reader is not None:
            visibility.check_nomination(session, self._reach(session, reader), number)

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

    def campaigns(self, code: str | None = None) -> list[dict[str, Any]]:
        """Every campaign (or the one coded `code`), oldest first."""
        with self._read() as session:
            query = (
                select(Campaign, Unit.code)
                .join(Unit, Campaign.issuing_unit_id == Unit.id)
                .order_by(Campaign.id)
            )
            if code is not None:
                query = query.where(Campaign.code == code)
            rows = session.execute(query)
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

    def campaign(self, code: str) -> dict[str, Any]:
        found = self.campaigns(code)
        if not found:
            raise NotFound(f"no campaign coded '{code}'")
        return found[0]

    def inbox(self, actor: str, limit: int = 100, offset: int = 0) -> list[NominationView]:
        with self._read() as session:
            return queries.inbox(session, directory.load_principal(session, actor), limit, offset)

    def history(self, nomination_id: object, reader: str | None = None) -> list[EntryView]:
        number = _nomination_id(nomination_id)
        with self._read() as session:
            self._check_reader(session, reader, number)
            queries.show(session, number)
            return queries.history(session, f"nomination:{number}")

    def verify(
        self,
        progress: Callable[[int], None] | None = None,
        workers: int = 1,
        reader: str | None = None,
    ) -> audit.VerifyReport:
        self._require(reader, "auditor", "admin")
        if workers > 1:  # one share of the streams per worker process (workflow.sharding)
            return sharding.verify_shared(self.engine, workers, progress)
        with self._read() as session:
            return audit.verify(session, progress)

    def now(self) -> datetime:
        return self.clock.now()

    # -- award rounds: scores, ranking, public comment, decisions, revocation ------------------

    def score(
        self,
        actor: str,
        nomination_id: object,
        *,
        criterion: str,
        points: int,
        comment: str | None = None,
    ) -> dict[str, Any]:
        number = _nomination_id(nomination_id)
        with self._write("score", actor=actor, nomination=number) as session:
            principal = directory.load_principal(session, actor)
            nomination = nominations.load(session, number)
            scores.score(
                session,
                principal,
                nomination,
                self.clock.now(),
                criterion=clean_text(criterion, "criterion", "code"),
                points=points,
                comment=optional_text(comment, "comment"),
            )
        return {"nomination": number, "criterion": criterion, "points": points}

    def ranking(
        self,
        campaign: str,
        round_name: str | None = None,
        kind: str | None = None,
        reader: str | None = None,
    ) -> list[scores.RankRow]:
        """The round's ranking; with `reader`, only the rows of nominations they may read (the
        ranks stay those of the whole round)."""
        with self._read() as session:
            rows = scores.ranking(session, campaign, round_name, kind)
            if reader is None:
                return rows
            seen = visibility.visible_ids(
                session, self._reach(session, reader), (row.nomination for row in rows)
            )
            return [row for row in rows if row.nomination in seen]

    def publish(
        self,
        actor: str,
        nomination_ids: Sequence[object],
        *,
        form: str,
        days: int | None = None,
    ) -> dict[str, Any]:
        ids = [_nomination_id(value) for value in nomination_ids]
        with self._write("publish", actor=actor, nominations=ids) as session:
            principal = directory.load_principal(session, actor)
            batch = [nominations.load(session, number) for number in ids]
            publication = public_comment.publish(
                session, principal, batch, self.clock.now(), form=form, days=days
            )
            return {
                "publication": publication.id,
                "form": publication.form,
                "nominations": ids,
                "published_at": format_local(publication.published_at),
                "ends_at": format_local(publication.ends_at),
            }

    def object_to(self, actor: str, nomination_id: object, objection: str) -> NominationView:
        number = _nomination_id(nomination_id)
        text = clean_text(objection, "objection", "reason")
        with self._write("object", actor=actor, nomination=number) as session:
            principal, nomination, proposer = nominations.load_for(session, actor, number)
            public_comment.object_to(
                session, principal, nomination, self.clock.now(), objection=text
            )
        return queries.nomination_view(nomination, proposer)

    def decide(
        self,
        actor: str,
        nomination_ids: Sequence[object],
        *,
        number: str,
        date: str,
        form: str,
    ) -> dict[str, Any]:
        """One award decision over a batch of nominations that passed their last level."""
        awarded = self._decide(actor, nomination_ids, number, date, form)
        ids = [nomination.id for nomination, _ in awarded]
        return {"decision": number, "date": date, "form": form, "nominations": ids}

    def _decide(
        self, actor: str, nomination_ids: Sequence[object], number: str, date: str, form: str
    ) -> list[tuple[Nomination, str]]:
        """`decide`'s transaction; the awarded nominations with their proposers' usernames, as
        the decision left them (so a view of them needs no second read)."""
        decided_on = parse_date(date, "decision date")
        ids = [_nomination_id(value) for value in nomination_ids]
        context = {"nomination": ids[0]} if len(ids) == 1 else {"nominations": ids}
        with self._write("award", actor=actor, **context) as session:
            principal, nomination, proposer = nominations.load_for(session, actor, ids[0])
            batch = [(nomination, proposer)]
            batch += [nominations.load_with_proposer(session, value) for value in ids[1:]]
            decisions.decide(
                session,
                principal,
                [nomination for nomination, _ in batch],
                self.clock.now(),
                number=number,
                decided_on=decided_on,
                form=form,
            )
        return batch

    def revoke(
        self, actor: str, nomination_id: object, *, number: str, date: str, reason: str
    ) -> NominationView:
        decided_on = parse_date(date, "revocation date")
        text = clean_text(reason, "reason", "reason")
        nomination_number = _nomination_id(nomination_id)
        with self._write("revoke", actor=actor, nomination=nomination_number) as session:
            principal, nomination, proposer = nominations.load_for(
                session, actor, nomination_number
            )
            decisions.revoke(
                session,
                principal,
                nomination,
                self.clock.now(),
                number=number,
                decided_on=decided_on,
                reason=text,
            )
        return queries.nomination_view(nomination, proposer)

    def criteria(self, campaign: str) -> list[dict[str, Any]]:
        """The criteria a campaign's nominations are scored on (code, name, max_points)."""
        with self._read() as session:
            found = campaigns.campaign_by_code(session, campaign)
            return [dict(c) for c in round_rules.rules_of(session, found).criteria]

    def ready_for_award(self, actor: str) -> list[dict[str, Any]]:
        """What `actor` may award now, by campaign, with each round's quota and awards so far."""
        with self._read() as session:
            return award_queue.ready_for(session, directory.load_principal(session, actor))

    def decision(
        self, number: str, unit: str | None = None, reader: str | None = None
    ) -> list[dict[str, Any]]:
        """Every decision numbered `number`; with `reader`, only those whose every dossier they
        may read (Forbidden when there are some but none such)."""
        with self._read() as session:
            found = decision_history.show_decision(session, number, unit)
            if reader is None:
                return found
            reach = self._reach(session, reader)
            readable = []
            for decision in found:
                ids = {d["nomination"]["id"] for d in decision["dossiers"]}
                if visibility.visible_ids(session, reach, ids) == ids:
                    readable.append(decision)
            if not readable:
                raise Forbidden(
                    "unit_scope",
                    f"decision '{number.strip()}' awards dossiers outside the units {reader} "
                    "holds a role in",
                )
            return readable

    # -- councils and delegation -----------------------------------------------------------------

    def set_council(
        self,
        actor: str,
        *,
        campaign: str,
        level: str,
        members: Sequence[str],
        threshold: str,
    ) -> dict[str, Any]:
        """Make `level` of `campaign` a council of `members` deciding by `threshold`."""
        with self._write("set_council", actor=actor, campaign=campaign, level=level) as session:
            principal = directory.load_principal(session, actor)
            found = campaigns.campaign_by_code(session, campaign)
            council = councils.set_council(
                session,
                principal,
                self.clock.now(),
                campaign=found,
                level=level,
                members=members,
                threshold=threshold,
            )
            return {
                "campaign": found.code,
                "level": council.level,
                "members": [clean_text(m, "council member") for m in members],
                "threshold": council.threshold,
                "required": council.required,
            }

    def vote(
        self,
        actor: str,
        nomination_id: object,
        *,
        approve: bool,
        comment: str | None = None,
        on_behalf_of: str | None = None,
    ) -> NominationView:
        """A council member's vote, or their substitute's, on a nomination at its council level."""
        number = _nomination_id(nomination_id)
        text = optional_text(comment, "comment")
        with self._write("vote", actor=actor, nomination=number) as session:
            principal, nomination, proposer = nominations.load_for(session, actor, number)
            votes.vote(
                session,
                principal,
                nomination,
                self.clock.now(),
                approve=approve,
                comment=text,
                on_behalf_of=on_behalf_of,
            )
        return queries.nomination_view(nomination, proposer)

    def council_status(self, nomination_id: object, reader: str | None = None) -> dict[str, Any]:
        """The council the nomination awaits (members, threshold, tally) and every vote cast."""
        number = _nomination_id(nomination_id)
        with self._read() as session:
            self._check_reader(session, reader, number)
            return councils.status(session, nominations.load(session, number))

    def delegate(
        self,
        actor: str,
        *,
        to: str,
        starts: str,
        until: str,
        unit: str | None = None,
    ) -> dict[str, Any]:
        """`actor`, an approver, names `to` substitute from `starts` until `until` (dd/mm/yyyy)."""
        first, last = parse_date(starts, "delegation start"), parse_date(until, "delegation end")
        with self._write("delegate", actor=actor, substitute=to) as session:
            principal = directory.load_principal(session, actor)
            made = delegations.create(
                session,
                principal,
                self.clock.now(),
                substitute=to,
                starts=first,
                until=last,
                unit_code=unit,
            )
            return delegations.describe(session, made)

    def revoke_delegation(self, actor: str, delegation_id: object) -> dict[str, Any]:
        number = _nomination_id(delegation_id, "delegation")
        with self._write("revoke_delegation", actor=actor, delegation=number) as session:
            principal = directory.load_principal(session, actor)
            done = delegations.revoke(session, principal, self.clock.now(), number)
            return delegations.describe(session, done)

    def delegations(self, actor: str) -> list[dict[str, Any]]:  # a person's own, so no reader
        """The delegations `actor` named or received."""
        with self._read() as session:
            return delegations.list_for(session, directory.load_principal(session, actor))

    # -- auditors: checkpoints, replay and export of the audit log ----------------------------

    def verify_checkpoint(
        self,
        checkpoint: str,
        public_key: str,
        progress: Callable[[int], None] | None = None,
    ) -> audit.VerifyReport:
        """Verify the log, and that it extends the checkpoint signed by the trusted key."""
        statement = checkpoints.check_statement(checkpoints.load_checkpoint(checkpoint), public_key)
        heads = {stream: int(head[0]) for stream, head in statement["heads"].items()}
        watch = verifying.Watch(int(statement["count"]), heads)
        with self._read() as session:
            report = verifying.verify_log(session.connection(), progress, watch)
        report.breaks += checkpoints.watch_breaks(
            statement, report.entries, watch.merkle.root(), watch.seen
        )
        return report

    def checkpoint(self, private_key: str, out: str) -> dict[str, Any]:
        """Sign a statement of the log as it is now and write it to `out`."""
        with self._read() as session:
            statement = checkpoints.make_statement(session.connection(), self.clock.now())
        signed = checkpoints.sign(statement, private_key)
        path = checkpoints.write_checkpoint(signed, out)
        log.info("audit.checkpoint", file=str(path), count=statement["count"])
        return {
            "file": str(path),
            "count": statement["count"],
            "root": statement["root"],
            "at": statement["at"],
            "key": signed["statement"]["key"],
        }

    def replay(
        self,
        as_of: datetime | None = None,
        campaign: str | None = None,
        progress: Callable[[int], None] | None = None,
        workers: int = 1,
        reader: str | None = None,
    ) -> replaying.ReplayReport:
        """Every nomination's state rebuilt from its entries alone (up to `as_of`)."""
        self._require(reader, "auditor", "admin")
        with self._read() as session:
            if campaign is not None:
                campaigns.campaign_by_code(session, campaign)
            until = None if as_of is None else encoding.at_text(as_of)
            if workers > 1:  # one share of the streams per worker process (workflow.sharding)
                return sharding.replay_shared(
                    self.engine, workers, as_of=until, campaign=campaign, progress=progress
                )
            return replaying.replay_log(
                session.connection(), as_of=until, campaign=campaign, progress=progress
            )

    def export_audit(
        self,
        out: str,
        fmt: str,
        *,
        nomination: object = None,
        campaign: str | None = None,
        reader: str | None = None,
    ) -> int:
        """Write the entries of one nomination, one campaign or the whole log to `out`."""
        self._require(reader, "auditor", "admin")
        if nomination is not None and campaign is not None:
            raise InvalidInput("export takes a nomination or a campaign, not both")
        number = None if nomination is None else _nomination_id(nomination)
        with self._read() as session:
            if number is not None:
                self._check_reader(session, reader, number)
            return export.export(
                session.connection(), out, fmt, nomination=number, campaign=campaign
            )

    # -- notifications -------------------------------------------------------------------------

    def set_channel(
        self,
        username: str,
        channel: str,
        address: str | None = None,
        enabled: bool = True,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Choose, change or switch off one of a person's notification channels; with `actor`,
        only their own unless they are an admin."""
        with self._write("set_channel", person=username, channel=channel) as session:
            self._own_or_admin(session, actor, username)
            row = person_channels.set_channel(session, username, channel, address, enabled)
            return {
                "person": username,
                "channel": row.channel,
                "address": row.address,
                "enabled": row.enabled,
            }

    def channels(self, username: str, reader: str | None = None) -> list[dict[str, Any]]:
        """A person's channels; with `reader`, only their own unless they are an admin."""
        with self._read() as session:
            self._own_or_admin(session, reader, username)
            return person_channels.channels_of(session, username)

    @staticmethod
    def _own_or_admin(session: Session, actor: str | None, username: str) -> None:
        if actor is None:
            return
        principal = directory.load_principal(session, actor)
        if principal.username != username and not principal.holding("admin"):
            raise Forbidden(
                "own_channels",
                f"{principal.username} may read and set only their own notification channels, "
                f"not those of {username}; admins set anyone's",
            )

    def notifications(
        self,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
        reader: str | None = None,
    ) -> list[dict[str, Any]]:
        self._require(reader, "admin")
        with self._read() as session:
            return outbox.list_messages(session, state, limit, offset)

    def retry_notification(self, message_id: object, actor: str | None = None) -> dict[str, Any]:
        """Requeue a parked notification: due now, its attempts counted afresh (admins only,
        when `actor` is given)."""
        self._require(actor, "admin")
        number = _nomination_id(message_id, "notification")
        with self._write("retry_notification", notification=number) as session:
            row = outbox.requeue(session, number, self.clock.now())
            return {"id": row.id, "key": row.key, "state": "pending"}

    # -- deadlines: scheduled transitions, reminders, review time limits -----------------------

    def set_deadlines(
        self,
        actor: str,
        campaign: str,
        *,
        registration: str | None = None,
        report: str | None = None,
        review_days: int | None = None,
        reminder_days: Sequence[int] | None = None,
    ) -> dict[str, Any]:
        """Move a campaign's deadlines or time limits: one audited "deadline_changed" entry."""
        change = schedules.DeadlineChange(
            registration=registration,
            report=report,
            review_days=review_days,
            reminder_days=list(reminder_days) if reminder_days is not None else None,
        )
        with self._write("set_deadlines", actor=actor, campaign=campaign) as session:
            principal = directory.load_principal(session, actor)
            found = campaigns.campaign_by_code(session, campaign)
            return schedules.change_deadlines(session, principal, found, change, self.clock.now())

    def tick(self, now: datetime | None = None, fencing: int | None = None) -> dict[str, Any]:
        """Apply every deadline, reminder and review time limit due at `now` (or the clock's)."""
        moment = now or self.clock.now()
        with structlog.contextvars.bound_contextvars(command="tick"):
            report = deadlines.run_due(self.engine, moment, fencing)
        return {"now": format_local(moment, seconds=True), **report.to_dict()}

    def deadlines(self, limit: int = 50, reader: str | None = None) -> list[dict[str, Any]]:
        """What is due next; with `reader`, review time limits only of nominations they read."""
        with self._read() as session:
            readable = None
            if reader is not None:
                reach = self._reach(session, reader)

                def readable(ids: Sequence[int]) -> set[int]:
                    return visibility.visible_ids(session, reach, ids)

            return deadline_queries.upcoming(session, self.clock.now(), limit, readable)

    def escalations(
        self, campaign: str | None = None, reader: str | None = None
    ) -> list[dict[str, Any]]:
        """Review time limits that passed; with `reader`, of the nominations they may read."""
        with self._read() as session:
            rows = deadline_queries.escalations(session, campaign)
            if reader is None:
                return rows
            reach = self._reach(session, reader)
            seen = visibility.visible_ids(session, reach, (row["nomination"] for row in rows))
            return [row for row in rows if row["nomination"] in seen]

    def reminders(
        self, campaign: str | None = None, reader: str | None = None
    ) -> list[dict[str, Any]]:
        """Reminders queued before deadlines; with `reader`, those sent to them, or every one
        for auditors and admins."""
        with self._read() as session:
            rows = deadline_queries.reminders(session, campaign)
            if reader is None:
                return rows
            principal = directory.load_principal(session, reader)
            if principal.holding("auditor") or principal.holding("admin"):
                return rows
            return [row for row in rows if row["to"] == principal.username]

    def review_limits(self, nomination_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """When each of these nominations' current review time limit ends, and if it has."""
        now = self.clock.now()
        with self._read() as session:
            waiting = reviews.waiting_reviews(session, only=list(nomination_ids))
        return {
            w.nomination_id: {
                "level": w.level,
                "reached_at": w.reached_at,
                "due_at": w.due_at,
                "overdue": w.due_at <= now,
            }
            for w in waiting
        }

    # -- access: API tokens, sign-in passwords, browser sessions, what a person may read -------

    def create_token(self, username: str, name: str = "api") -> dict[str, Any]:
        """A new bearer token for `username`; the secret is in the answer and nowhere else."""
        with self._write("create_token", person=username) as session:
            token_id, secret = access.create_token(session, username, name, self.clock.now())
        return {"id": token_id, "person": username, "name": name, "token": secret}

    def revoke_token(self, token_id: object) -> dict[str, Any]:
        number = _nomination_id(token_id, "token")
        with self._write("revoke_token", token=number) as session:
            row = access.revoke_token(session, number, self.clock.now())
            revoked = row.revoked_at
            assert revoked is not None
            return {"id": row.id, "name": row.name, "revoked_at": format_local(revoked)}

    def tokens(self, username: str) -> list[dict[str, Any]]:
        with self._read() as session:
            return [
                {
                    "id": row.id,
                    "name": row.name,
                    "created_at": format_local(row.created_at),
                    "revoked_at": format_local(row.revoked_at) if row.revoked_at else None,
                }
                for row in access.tokens_of(session, username)
            ]

    def authenticate(self, token: str) -> str:
        """The username of a bearer token (Unauthenticated when unknown or revoked)."""
        with self._lookup.connect() as connection:
            return access.authenticate_token(connection, token)

    def set_password(self, username: str, password: str) -> None:
        with self._write("set_password", person=username) as session:
            access.set_password(session, username, password)

    def sign_in(self, username: str, password: str, client: str = "") -> access.SignedIn:
        """A browser session for the right password; `client` (the caller's address) is what
        the sign-in throttle counts refusals by, with the name (workflow.access)."""
        now = self.clock.now()
        try:
            with self._write("sign_in") as session:
                signed = access.sign_in(session, username, password, now, client)
        except TooManyAttempts:
            raise
        except Unauthenticated:
            with self._write("sign_in_refused") as session:
                access.record_failure(session, username, client, now)
            raise
        log.info("session.signed_in", person=signed.username)
        return signed

    def web_session(self, secret: str) -> access.SignedIn:
        with self._read() as session:
            return access.session_of(session, secret, self.clock.now())

    def sign_out(self, secret: str) -> None:
        with self._write("sign_out") as session:
            access.end_session(session, secret)

    def whoami(self, username: str) -> dict[str, Any]:
        """A person with their roles and units, as the API and pages show who is signed in."""
        with self._read() as session:
            principal = directory.load_principal(session, username)
            return {
                "username": principal.username,
                "full_name": principal.person.full_name,
                "email": principal.person.email,
                "roles": [
                    {
                        "role": grant.role,
                        "unit": grant.unit.code,
                        "unit_name": grant.unit.name,
                        "level": grant.unit.level,
                    }
                    for grant in principal.grants
                ],
            }
