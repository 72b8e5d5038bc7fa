"""`thidua`: every command and query of the service from the terminal.

Thin: parse, call the service, render. Exit codes: 0 done, 2 bad input, 3 refused by a rule,
4 not found, 5 conflict (wrong state, or changed by someone else meanwhile), 6 the audit log is
broken (from `audit verify`), 7 not signed in (a wrong password or token), 1 anything else.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from notifications import CHANNELS
from workflow import checkpoints, demo, rounds_cli, server_cli, sharding
from workflow.campaigns import AREAS, NOMINEE_KINDS, CampaignSpec
from workflow.db import ensure_schema, make_engine
from workflow.directory import ROLES, vietnam_units
from workflow.errors import InvalidInput, Refused, WorkflowError, exit_code
from workflow.logs import configure_logging
from workflow.outbox import STATES as OUTBOX_STATES
from workflow.service import Service
from workflow.settings import Settings
from workflow.timeutil import format_local, parse_instant
from workflow.views import EntryView, NominationView, jsonable

__all__ = ["main"]

#: Exit code of `thidua audit verify` when it finds a broken entry.
AUDIT_BROKEN = 6

Handler = Callable[[Service, argparse.Namespace], Any]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        """A usage error is bad input: exit 2, and one JSON object on stderr under --json."""
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(InvalidInput):
    """argparse refused the command line."""


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", help="database URL (default: THIDUA_DATABASE_URL or ./thidua.sqlite3)"
    )
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    common.add_argument("--as", dest="actor", help="username of the acting person (or THIDUA_USER)")
    return common


def _actor(args: argparse.Namespace) -> str:
    actor = args.actor or os.environ.get("THIDUA_USER")
    if not actor:
        raise InvalidInput("this command needs the acting person: --as USERNAME (or THIDUA_USER)")
    return str(actor)


def _read_toml(path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidInput(f"file '{path}' does not exist") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"file '{path}' is not valid UTF-8 TOML: {exc}") from exc


# -- handlers -----------------------------------------------------------------------------------


def _init(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    return {"database": service.engine.url.render_as_string(hide_password=True), "ready": True}


def _load(service: Service, args: argparse.Namespace) -> dict[str, int]:
    return service.load(_read_toml(args.file), args.actor or os.environ.get("THIDUA_USER"))


def _unit_add(service: Service, args: argparse.Namespace) -> dict[str, str]:
    kind = "agency" if args.agency else "administrative"
    return {"unit": service.add_unit(args.code, args.name, args.level, args.parent, kind)}


def _unit_import(service: Service, args: argparse.Namespace) -> dict[str, int]:
    try:
        records = list(vietnam_units(args.province))
    except ValueError as exc:
        raise InvalidInput(
            f"province code {args.province} is not a province of today's list"
        ) from exc

    def progress(done: int) -> None:
        print(f"  {done}/{len(records)} units …", file=sys.stderr, flush=True)

    return {"units": service.import_units(records, progress)}


def _unit_list(service: Service, args: argparse.Namespace) -> list[dict[str, Any]]:
    return service.units()


def _person_add(service: Service, args: argparse.Namespace) -> dict[str, str]:
    return {"person": service.add_person(args.username, args.name, args.email)}


def _person_grant(service: Service, args: argparse.Namespace) -> dict[str, str]:
    service.grant_role(args.username, args.role, args.unit)
    return {"person": args.username, "role": args.role, "unit": args.unit}


def _campaign_create(service: Service, args: argparse.Namespace) -> dict[str, str]:
    if args.file:
        data = _read_toml(args.file)
        spec = CampaignSpec.from_mapping(data.get("campaign", data))
    else:
        given = {
            "code": args.code,
            "name": args.name,
            "issuing_unit": args.issuing_unit,
            "registration_deadline": args.registration_deadline,
            "report_deadline": args.report_deadline,
            "award_level": args.award_level,
            "tiers": args.tiers.split(",") if args.tiers else None,
            "areas": args.areas.split(",") if args.areas else None,
            "nominee_kinds": args.kinds.split(",") if args.kinds else None,
        }
        missing = [
            f"--{key.replace('_', '-')}"
            for key in ("code", "name", "issuing_unit", "registration_deadline", "report_deadline")
            if not given[key]
        ]
        if missing:
            raise InvalidInput(f"campaign create needs --file or {', '.join(missing)}")
        spec = CampaignSpec(**given)
    return {"campaign": service.create_campaign(_actor(args), spec)}


def _campaign_list(service: Service, args: argparse.Namespace) -> list[dict[str, Any]]:
    return service.campaigns()


def _register(service: Service, args: argparse.Namespace) -> NominationView:
    return service.register(
        _actor(args),
        campaign=args.campaign,
        unit=args.unit,
        nominee_kind=args.kind,
        nominee_name=args.nominee,
        title=args.title,
        area=args.area,
        nominee=args.nominee_person,
        form=args.form,
    )


def _officer(trigger: str) -> Handler:
    def handler(service: Service, args: argparse.Namespace) -> NominationView:
        actor = _actor(args)
        if trigger == "implement":
            return service.implement(actor, args.id)
        if trigger == "report":
            return service.report(actor, args.id)
        if trigger == "resubmit":
            return service.resubmit(actor, args.id, args.note)
        return service.withdraw(actor, args.id, args.reason)

    return handler


def _review(trigger: str) -> Handler:
    def handler(service: Service, args: argparse.Namespace) -> NominationView:
        actor = _actor(args)
        if trigger == "approve":
            return service.approve(actor, args.id, args.comment)
        if trigger == "return":
            return service.return_for_supplement(actor, args.id, args.reason)
        return service.reject(actor, args.id, args.reason)

    return handler


def _award(service: Service, args: argparse.Namespace) -> Any:
    if len(args.id) == 1:
        return service.award(
            _actor(args), args.id[0], number=args.number, date=args.date, form=args.form
        )
    return service.decide(_actor(args), args.id, number=args.number, date=args.date, form=args.form)


def _show(service: Service, args: argparse.Namespace) -> _Shown:
    view = service.show(args.id)
    return _Shown(view, service.council_status(view.id))


def _list(service: Service, args: argparse.Namespace) -> list[NominationView]:
    return service.list_nominations(
        campaign=args.campaign,
        state=args.state,
        unit=args.unit,
        limit=args.limit,
        offset=args.offset,
    )


def _inbox(service: Service, args: argparse.Namespace) -> list[NominationView]:
    return service.inbox(_actor(args), args.limit, args.offset)


def _history(service: Service, args: argparse.Namespace) -> list[EntryView]:
    return service.history(args.id)


def _verify(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    def progress(done: int) -> None:
        print(f"  verified {done} entries …", file=sys.stderr, flush=True)

    workers = _workers(service, args)
    if getattr(args, "checkpoint", None):
        if not args.public_key:
            raise InvalidInput("verify --checkpoint needs --public-key: the auditor's trusted key")
        report = service.verify_checkpoint(args.checkpoint, args.public_key, progress)
    else:
        report = service.verify(progress, workers=workers)
    return {
        "ok": report.ok,
        "entries": report.entries,
        "streams": report.streams,
        "breaks": [
            {"stream": b.stream, "seq": b.seq, "entry_id": b.entry_id, "why": b.why}
            for b in report.breaks
        ],
    }


def _workers(service: Service, args: argparse.Namespace) -> int:
    """--workers, or by default one process per CPU for a large log (workflow.sharding)."""
    if args.workers is None:
        return 1 if getattr(args, "checkpoint", None) else sharding.auto_workers(service.engine)
    workers: int = args.workers
    if workers < 1:
        raise InvalidInput(f"--workers must be 1 or more, not {workers}")
    if workers > 1 and getattr(args, "checkpoint", None):
        raise InvalidInput(
            "verify --checkpoint reads the whole log in one pass: leave out --workers"
        )
    return workers


# auditors: keys, checkpoints, replay and export ---------------------------------------------


@dataclass(frozen=True)
class _Rendered:
    """A result with its own text form: `data` for --json, `text` for people."""

    data: dict[str, Any]
    text: str


def _keygen(service: Service, args: argparse.Namespace) -> dict[str, str]:
    private, public = checkpoints.keygen(args.out)
    return {"private_key": str(private), "public_key": str(public)}


def _checkpoint(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    return service.checkpoint(args.key, args.out)


def _replay(service: Service, args: argparse.Namespace) -> _Rendered:
    as_of = parse_instant(args.as_of, "--as-of") if args.as_of else None

    def progress(done: int) -> None:
        if done % 100_000 == 0:
            print(f"  replayed {done} entries …", file=sys.stderr, flush=True)

    report = service.replay(as_of, args.campaign, progress, workers=_workers(service, args))
    items = [
        {
            "nomination": item.nomination,
            "campaign": item.campaign,
            "replayed": item.replayed,
            "stored": item.stored,
            "entries": item.entries,
            "problem": item.problem,
        }
        for item in report.nominations
    ]
    if as_of is not None:
        when = format_local(as_of)
        lines = [f"states as of {when} (Vietnam time), replayed from {report.entries} entries:"]
        lines += [
            f"  #{i['nomination']:<7} {i['replayed'] or '(not yet registered)':<20} {i['campaign']}"
            for i in items
        ]
        data = {"as_of": as_of.isoformat(), "entries": report.entries, "nominations": items}
        return _Rendered(data, "\n".join(lines))
    differences = [i for i in items if i["problem"] or i["replayed"] != i["stored"]]
    lines = [
        f"replayed {len(items)} nominations from {report.entries} entries: "
        + ("every state matches" if not differences else f"{len(differences)} differ")
    ]
    lines += [
        f"  #{i['nomination']}: stored '{i['stored']}', entries replay to '{i['replayed']}'"
        + (f" ({i['problem']})" if i["problem"] else "")
        for i in differences
    ]
    data = {
        "ok": not differences,
        "entries": report.entries,
        "nominations": len(items),
        "differences": differences,
    }
    return _Rendered(data, "\n".join(lines))


def _export(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    if args.nomination and args.campaign:
        raise InvalidInput("export takes --nomination or --campaign, not both")
    count = service.export_audit(
        args.out, args.format, nomination=args.nomination, campaign=args.campaign
    )
    return {"file": args.out, "format": args.format, "entries": count}


def _demo(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    return demo.run(service, out=sys.stdout if not args.json else sys.stderr)


# -- councils and delegation --------------------------------------------------------------------


@dataclass(frozen=True)
class _Shown:
    """`thidua show`: the nomination, the council it awaits (if any) and the votes cast on it."""

    view: NominationView
    council: dict[str, Any]


def _council_set(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    members = [name.strip() for name in args.members.split(",") if name.strip()]
    return service.set_council(
        _actor(args),
        campaign=args.campaign,
        level=args.level,
        members=members,
        threshold=args.threshold,
    )


def _vote(service: Service, args: argparse.Namespace) -> _Shown:
    view = service.vote(
        _actor(args),
        args.id,
        approve=args.approve,
        comment=args.comment,
        on_behalf_of=args.on_behalf_of,
    )
    return _Shown(view, service.council_status(view.id))


def _delegate(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    return service.delegate(
        _actor(args), to=args.to, starts=args.starts, until=args.until, unit=args.unit
    )


def _delegation_revoke(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    return service.revoke_delegation(_actor(args), args.id)


def _delegation_list(service: Service, args: argparse.Namespace) -> list[dict[str, Any]]:
    return service.delegations(_actor(args))


def _render_council(status: Mapping[str, Any]) -> str:
    lines = []
    council = status["council"]
    if council:
        tally = council["tally"]
        lines.append(
            f"  council at {council['level']}: threshold {council['threshold']} "
            f"({tally['required']} of {tally['members']}); approve {tally['approve']}, "
            f"reject {tally['reject']}, not voted: {', '.join(council['not_voted']) or '—'}"
        )
    for vote in status["votes"]:
        by = f" (cast by {vote['cast_by']})" if vote["cast_by"] != vote["member"] else ""
        old = "" if vote["counts"] or council is None else " [no longer counts]"
        comment = f" «{vote['comment']}»" if vote["comment"] else ""
        lines.append(
            f"  vote {vote['level']}: {vote['member']}{by} {vote['vote']} {vote['at']}"
            f"{old}{comment}"
        )
    return "\n".join(lines)


# -- notifications ------------------------------------------------------------------------------


def _person_channel(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    return service.set_channel(args.username, args.channel, args.address, not args.off)


def _person_channels(service: Service, args: argparse.Namespace) -> list[dict[str, Any]]:
    return service.channels(args.username)


def _notifications(service: Service, args: argparse.Namespace) -> Any:
    if getattr(args, "notifications_command", None) == "retry":
        return service.retry_notification(args.id)
    return service.notifications(args.state, args.limit, args.offset)


def _dispatch(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    import signal
    import threading

    from workflow.dispatch import build_dispatcher

    settings = Settings.from_env(os.environ).notifications
    dispatcher = build_dispatcher(service.engine, settings, service.clock)
    if args.once:
        try:
            tally = dispatcher.drain()
        finally:
            dispatcher.close()
    else:
        stop = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
        tally = dispatcher.run(stop, settings.poll)
    return {
        "claimed": tally.claimed,
        "delivered": tally.delivered,
        "retried": tally.retried,
        "parked": tally.parked,
        "released": tally.released,
        "by_channel": tally.by_channel,
    }


# -- deadlines ----------------------------------------------------------------------------------


def _set_deadline(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    reminders = None
    if args.reminders is not None:
        try:
            reminders = [int(part) for part in args.reminders.split(",") if part.strip()]
        except ValueError as exc:
            raise InvalidInput(
                f"--reminders '{args.reminders}' is not a list of days such as 7,1"
            ) from exc
    return service.set_deadlines(
        _actor(args),
        args.code,
        registration=args.registration,
        report=args.report,
        review_days=args.review_days,
        reminder_days=reminders,
    )


def _tick(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    now = parse_instant(args.now, "--now") if args.now else None
    return service.tick(now)


def _scheduler(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    # Imported here: APScheduler is only needed by this command.
    from workflow.scheduler import DeadlineScheduler, SchedulerSettings

    url = service.engine.url.render_as_string(hide_password=False)
    settings = SchedulerSettings.from_env(url, os.environ)
    overrides = {
        key: value
        for key, value in (
            ("lease_seconds", args.lease_seconds),
            ("renew_seconds", args.renew_seconds),
            ("catch_up_seconds", args.catch_up_seconds),
        )
        if value is not None
    }
    settings = dataclasses.replace(settings, **overrides)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"thidua scheduler {settings.holder}: waiting for the lease", file=sys.stderr, flush=True)
    DeadlineScheduler(settings).run(stop)
    return {"holder": settings.holder, "stopped": True}


def _deadlines(service: Service, args: argparse.Namespace) -> list[dict[str, Any]]:
    return service.deadlines(args.limit)


def _escalations(service: Service, args: argparse.Namespace) -> list[dict[str, Any]]:
    return service.escalations(args.campaign)


def _reminders(service: Service, args: argparse.Namespace) -> list[dict[str, Any]]:
    return service.reminders(args.campaign)


def _add_deadline_commands(command: Callable[..., Any], campaign_commands: Any) -> None:
    sub = command(
        "set-deadline",
        _set_deadline,
        "move a campaign's deadlines or time limits (audited)",
        campaign_commands,
    )
    sub.add_argument("code")
    sub.add_argument("--registration", help="dd/mm/yyyy [HH:MM]: registrations before this")
    sub.add_argument("--report", help="dd/mm/yyyy [HH:MM]: reports before this")
    sub.add_argument("--review-days", type=int, help="each level's time limit, working days")
    sub.add_argument("--reminders", help="days before each deadline, e.g. 7,1")
    sub = command("tick", _tick, "run all deadline work due now (or at --now)")
    sub.add_argument("--now", help="dd/mm/yyyy HH:MM, Vietnam time")
    sub = command("scheduler", _scheduler, "run the deadline scheduler in the foreground")
    sub.add_argument("--lease-seconds", type=float, help="lease time to live (default 30)")
    sub.add_argument("--renew-seconds", type=float, help="renew every … seconds (default 10)")
    sub.add_argument("--catch-up-seconds", type=float, help="catch-up interval (default 60)")
    sub = command("deadlines", _deadlines, "what is due next, in Vietnam time")
    sub.add_argument("--limit", type=int, default=50)
    sub = command("escalations", _escalations, "reviews that passed their time limit")
    sub.add_argument("--campaign")
    sub = command("reminders", _reminders, "reminders queued before deadlines")
    sub.add_argument("--campaign")


# -- rendering ----------------------------------------------------------------------------------


def _render_nomination(view: NominationView) -> str:
    awaiting = f", awaits {view.awaiting}" if view.awaiting else ""
    award = (
        f"\n  award: {view.award_form}, decision {view.award_number} "
        f"ngày {view.award_date:%d/%m/%Y}"
        if view.award_number and view.award_date
        else ""
    )
    return (
        f"#{view.id} {view.state}{awaiting} — {view.nominee_name} ({view.nominee_kind})\n"
        f"  {view.title}\n"
        f"  campaign {view.campaign}, unit {view.unit_name} ({view.unit}), "
        f"chain {' → '.join(view.chain)}, proposed by {view.proposer}\n"
        f"  updated {format_local(view.updated_at)} (version {view.version}){award}"
    )


def _render_entry(entry: EntryView) -> str:
    move = f"{entry.from_state or '—'} → {entry.to_state or '—'}"
    unit = f", {entry.unit}" if entry.unit else ""
    reason = f"\n      «{entry.reason}»" if entry.reason else ""
    vote = (
        f" {entry.payload['vote']} (member {entry.payload['member']})"
        if "vote" in entry.payload
        else ""
    )
    behalf = entry.payload.get("on_behalf_of")
    behalf_text = f" on behalf of {behalf['name']} ({behalf['username']})" if behalf else ""
    return (
        f"  {entry.seq:>3}  {format_local(entry.at, seconds=True)}  {entry.trigger:<10} {move}"
        f"{vote}  by {entry.actor} ({entry.role}{unit}){behalf_text}{reason}"
    )


def _render(result: Any) -> str:
    if isinstance(result, _Shown):
        council = _render_council(result.council)
        return _render_nomination(result.view) + (f"\n{council}" if council else "")
    if isinstance(result, _Rendered):
        return result.text
    if isinstance(result, NominationView):
        return _render_nomination(result)
    if isinstance(result, list):
        if not result:
            return "(nothing)"
        if all(isinstance(item, EntryView) for item in result):
            return "\n".join(_render_entry(item) for item in result)
        if all(isinstance(item, NominationView) for item in result):
            return "\n".join(
                f"#{v.id:<6} {v.state:<18} {v.awaiting or '':<9} {v.unit:<10} {v.nominee_name}"
                for v in result
            )
        return "\n".join(", ".join(f"{k}: {v}" for k, v in item.items()) for item in result)
    if isinstance(result, Mapping):
        if "breaks" in result:
            if result["ok"]:
                return (
                    f"audit log intact: {result['entries']} entries in {result['streams']} streams"
                )
            lines = [f"audit log BROKEN in {len(result['breaks'])} place(s):"]
            lines += [
                f"  {b['stream']}"
                + (f" entry {b['seq']}" if b["seq"] is not None else "")
                + (f" (id {b['entry_id']})" if b["entry_id"] is not None else "")
                + f": {b['why']}"
                for b in result["breaks"]
            ]
            return "\n".join(lines)
        return ", ".join(f"{key}: {value}" for key, value in result.items())
    return str(result)


def _as_json(result: Any) -> Any:
    if isinstance(result, rounds_cli.Report):
        return result.data
    if isinstance(result, _Shown):
        return result.view.to_dict() | jsonable(result.council)
    if isinstance(result, _Rendered):
        return result.data
    if isinstance(result, NominationView | EntryView):
        return result.to_dict()
    if isinstance(result, list):
        return [_as_json(item) for item in result]
    return jsonable(result)


# -- the parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = _Parser(prog="thidua", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, handler: Handler, help_text: str, into: Any = commands) -> Any:
        sub = into.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    command("init", _init, "create or upgrade the database schema")
    sub = command("load", _load, "load [[units]], [[people]] and [[campaigns]] from a TOML file")
    sub.add_argument("file")
    command("demo", _demo, "load the Quận 12 (2022) sample and move it through its chains")

    units = commands.add_parser("unit", help="administrative units and agencies")
    unit_commands = units.add_subparsers(dest="unit_command", required=True, parser_class=_Parser)
    sub = command("add", _unit_add, "add a unit", unit_commands)
    sub.add_argument("code")
    sub.add_argument("--name", required=True)
    sub.add_argument("--level", required=True, choices=["commune", "district", "province"])
    sub.add_argument("--parent")
    sub.add_argument("--agency", action="store_true", help="an agency attached to --parent")
    sub = command(
        "import-vn", _unit_import, "import today's units from vietnam-provinces", unit_commands
    )
    sub.add_argument("--province", type=int, help="only this province (its code, e.g. 79)")
    command("list", _unit_list, "list units", unit_commands)

    people = commands.add_parser("person", help="people and their roles")
    person_commands = people.add_subparsers(
        dest="person_command", required=True, parser_class=_Parser
    )
    sub = command("add", _person_add, "add a person", person_commands)
    sub.add_argument("username")
    sub.add_argument("--name", required=True)
    sub.add_argument("--email")
    sub = command(
        "grant", _person_grant, "grant a role over a unit and the units below", person_commands
    )
    sub.add_argument("username")
    sub.add_argument("role", choices=ROLES)
    sub.add_argument("unit")

    campaigns = commands.add_parser("campaign", help="campaigns")
    campaign_commands = campaigns.add_subparsers(
        dest="campaign_command", required=True, parser_class=_Parser
    )
    sub = command(
        "create", _campaign_create, "create a campaign from --file or flags", campaign_commands
    )
    sub.add_argument("--file", help="a TOML file with the campaign's keys")
    sub.add_argument("--code")
    sub.add_argument("--name")
    sub.add_argument("--issuing-unit")
    sub.add_argument("--registration-deadline", help="dd/mm/yyyy: registrations before this day")
    sub.add_argument("--report-deadline", help="dd/mm/yyyy: reports before this day")
    sub.add_argument("--award-level", choices=["commune", "district", "province"])
    sub.add_argument("--tiers", help="e.g. commune,district,province or commune,province")
    sub.add_argument("--areas", help=f"comma-separated, of: {', '.join(AREAS)}")
    sub.add_argument("--kinds", help=f"comma-separated, of: {', '.join(NOMINEE_KINDS)}")
    command("list", _campaign_list, "list campaigns", campaign_commands)

    sub = command("register", _register, "register an initiative and its nominee")
    sub.add_argument("--campaign", required=True)
    sub.add_argument("--unit", required=True, help="code of the nominee's unit")
    sub.add_argument("--kind", required=True, help=f"one of: {', '.join(NOMINEE_KINDS)}")
    sub.add_argument("--nominee", required=True, help="the nominee's name")
    sub.add_argument("--title", required=True, help="the initiative, model or solution")
    sub.add_argument("--area", required=True, help=f"one of: {', '.join(AREAS)}")
    sub.add_argument("--nominee-person", help="username, when the nominee is a person of thidua")
    sub.add_argument(
        "--form", help="the award form sought, e.g. 'Bằng khen': fixes the chain's top"
    )

    for name, text in (
        ("implement", "mark a nomination implemented"),
        ("report", "report a nomination's results"),
    ):
        command(name, _officer(name), text).add_argument("id")
    sub = command("resubmit", _officer("resubmit"), "resubmit a returned nomination, supplemented")
    sub.add_argument("id")
    sub.add_argument("--note")
    sub = command("withdraw", _officer("withdraw"), "withdraw a nomination before its award")
    sub.add_argument("id")
    sub.add_argument("--reason", required=True)
    sub = command("approve", _review("approve"), "sign a nomination off at your level")
    sub.add_argument("id")
    sub.add_argument("--comment")
    for name, text in (
        ("return", "return a nomination for supplement (once)"),
        ("reject", "reject a nomination"),
    ):
        sub = command(name, _review(name), text)
        sub.add_argument("id")
        sub.add_argument("--reason", required=True)
    sub = command("award", _award, "issue one award decision for one or more nominations")
    sub.add_argument("id", nargs="+")
    sub.add_argument("--number", required=True, help="decision number, e.g. 163/QĐ-UBND")
    sub.add_argument("--date", required=True, help="decision date, dd/mm/yyyy")
    sub.add_argument("--form", required=True, help="e.g. 'Giấy khen'")

    command("show", _show, "show a nomination").add_argument("id")
    sub = command("list", _list, "list nominations")
    sub.add_argument("--campaign")
    sub.add_argument("--state")
    sub.add_argument("--unit", help="this unit and the units below it")
    sub.add_argument("--limit", type=int, default=100)
    sub.add_argument("--offset", type=int, default=0)
    sub = command("inbox", _inbox, "nominations awaiting your review")
    sub.add_argument("--limit", type=int, default=100)
    sub.add_argument("--offset", type=int, default=0)
    command("history", _history, "a nomination's audited timeline").add_argument("id")

    rounds_cli.add_commands(commands, command)
    server_cli.add_commands(commands, command, person_commands)
    # councils and delegation
    councils = commands.add_parser("council", help="councils that vote at a campaign's level")
    council_commands = councils.add_subparsers(
        dest="council_command", required=True, parser_class=_Parser
    )
    sub = command(
        "set", _council_set, "make a campaign's level a council of members", council_commands
    )
    sub.add_argument("--campaign", required=True)
    sub.add_argument("--level", required=True, choices=["commune", "district", "province"])
    sub.add_argument("--members", required=True, help="usernames, comma-separated")
    sub.add_argument(
        "--threshold", required=True, help="a share of all members ('90%%') or N of M ('3/4')"
    )
    sub = command("vote", _vote, "vote as a council member on a nomination at its level")
    sub.add_argument("id")
    choice = sub.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", dest="approve", action="store_true")
    choice.add_argument("--reject", dest="approve", action="store_false")
    sub.add_argument("--comment")
    sub.add_argument(
        "--for", dest="on_behalf_of", help="the member you substitute for (by delegation)"
    )
    sub = command("delegate", _delegate, "name a substitute who signs for you for a period")
    sub.add_argument("--to", required=True, help="the substitute's username")
    sub.add_argument("--from", dest="starts", required=True, help="first day, dd/mm/yyyy")
    sub.add_argument("--until", required=True, help="last day (included), dd/mm/yyyy")
    sub.add_argument("--unit", help="only for nominations of this unit and those below it")
    delegation_parser = commands.add_parser("delegation", help="delegations to substitutes")
    delegation_commands = delegation_parser.add_subparsers(
        dest="delegation_command", required=True, parser_class=_Parser
    )
    sub = command("revoke", _delegation_revoke, "end a delegation early", delegation_commands)
    sub.add_argument("id")
    command("list", _delegation_list, "delegations you named or received", delegation_commands)

    audit_parser = commands.add_parser("audit", help="the audit log")
    audit_commands = audit_parser.add_subparsers(
        dest="audit_command", required=True, parser_class=_Parser
    )
    sub = command(
        "verify", _verify, "recompute every hash chain; name the first broken entry", audit_commands
    )
    sub.add_argument("--checkpoint", help="also prove the log extends this signed checkpoint")
    sub.add_argument("--public-key", help="the auditor's trusted public key (PEM)")
    sub.add_argument(
        "--workers",
        type=int,
        help="worker processes, one share of the streams each (default: one per CPU for a log "
        f"of {sharding.AUTO_FROM:,} entries or more)",
    )
    sub = command("keygen", _keygen, "make the auditor's Ed25519 key pair", audit_commands)
    sub.add_argument("--out", required=True, help="folder for the key files")
    sub = command("checkpoint", _checkpoint, "sign a checkpoint of the log", audit_commands)
    sub.add_argument("--key", required=True, help="the auditor's private key (PEM)")
    sub.add_argument("--out", required=True, help="the checkpoint file to write")
    sub = command(
        "replay", _replay, "rebuild every nomination's state from its entries", audit_commands
    )
    sub.add_argument("--as-of", help="dd/mm/yyyy[ HH:MM], Vietnam time: states at that instant")
    sub.add_argument("--campaign", help="only this campaign's nominations")
    sub.add_argument(
        "--workers",
        type=int,
        help="worker processes, one share of the streams each (default: one per CPU for a log "
        f"of {sharding.AUTO_FROM:,} entries or more)",
    )
    sub = command("export", _export, "export entries as jsonl, csv or xlsx", audit_commands)
    sub.add_argument("--nomination", help="one nomination's entries")
    sub.add_argument("--campaign", help="one campaign's entries")
    sub.add_argument("--format", required=True, choices=["jsonl", "csv", "xlsx"])
    sub.add_argument("--out", required=True, help="the file to write")

    # notifications
    sub = command(
        "channel", _person_channel, "choose a notification channel of a person", person_commands
    )
    sub.add_argument("username")
    sub.add_argument("channel", choices=CHANNELS)
    sub.add_argument("--address", help="e-mail address or webhook URL")
    sub.add_argument("--off", action="store_true", help="switch this channel off")
    sub = command(
        "channels", _person_channels, "where a person's notifications go", person_commands
    )
    sub.add_argument("username")
    sub = command("notifications", _notifications, "list notifications; retry a parked one")
    sub.add_argument("--state", choices=OUTBOX_STATES)
    sub.add_argument("--limit", type=int, default=100)
    sub.add_argument("--offset", type=int, default=0)
    retry = sub.add_subparsers(dest="notifications_command", parser_class=_Parser)
    command("retry", _notifications, "requeue a parked notification", retry).add_argument("id")
    sub = command("dispatch", _dispatch, "deliver notifications in the foreground (SIGTERM stops)")
    sub.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    _add_deadline_commands(command, campaign_commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        if "--json" in argv:
            usage = {"error": exc.code, "message": str(exc)}
            print(json.dumps(usage, ensure_ascii=False), file=sys.stderr)
        else:
            parser.print_usage(sys.stderr)
            print(f"thidua: error: {exc}", file=sys.stderr)
        return exit_code(exc)
    try:
        settings = Settings.from_env(os.environ)
        configure_logging(settings.log_level)
        engine = make_engine(args.db or settings.database_url, settings.db_pool_size)
        try:
            ensure_schema(engine)
            result = args.handler(Service(engine), args)
        finally:
            engine.dispose()
    except WorkflowError as exc:
        if args.json:
            error: dict[str, Any] = {"error": exc.code, "message": str(exc)}
            if isinstance(exc, Refused):
                error["rule"] = exc.rule
            print(json.dumps(error, ensure_ascii=False), file=sys.stderr)
        else:
            print(f"thidua: {exc.code.replace('_', ' ')}: {exc}", file=sys.stderr)
        return exit_code(exc)
    except SQLAlchemyError as exc:
        print(
            f"thidua: database error: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}",
            file=sys.stderr,
        )
        return 1
    if args.json:
        print(json.dumps(_as_json(result), ensure_ascii=False, indent=2))
    elif args.command != "demo":
        print(_render(result))
    data = result.data if isinstance(result, _Rendered) else result
    verify_failed = isinstance(data, Mapping) and data.get("ok") is False
    return AUDIT_BROKEN if verify_failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
