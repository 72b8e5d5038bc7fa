"""The CLI commands of award rounds: score, ranking, publish, object, revoke, decision show.

Thin, like the rest of the CLI: parse, call the service, render. `award` (in cli.py) takes one
or several ids.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workflow.campaigns import NOMINEE_KINDS
from workflow.errors import InvalidInput
from workflow.service import Service
from workflow.views import NominationView

__all__ = ["Report", "add_commands"]

Handler = Callable[[Service, argparse.Namespace], Any]


@dataclass(frozen=True)
class Report:
    """A result with its JSON form (`data`) and its text for a terminal."""

    data: Any
    text: str

    def __str__(self) -> str:
        return self.text


def _actor(args: argparse.Namespace) -> str:
    actor = args.actor or os.environ.get("THIDUA_USER")
    if not actor:
        raise InvalidInput("this command needs the acting person: --as USERNAME (or THIDUA_USER)")
    return str(actor)


def _score(service: Service, args: argparse.Namespace) -> Report:
    done = service.score(
        _actor(args), args.id, criterion=args.criterion, points=args.points, comment=args.comment
    )
    return Report(
        done, f"#{done['nomination']}: {done['criterion']} = {done['points']} points (scored)"
    )


def _ranking(service: Service, args: argparse.Namespace) -> Report:
    rows = service.ranking(args.campaign, args.round, args.kind)
    lines = [
        f"{'round':<6} {'kind':<11} {'rank':>4} {'total':>5}  {'#':<6} {'state':<18} nominee",
        *(
            f"{r.round:<6} {r.nominee_kind:<11} {r.rank:>4} {r.total:>5}  #{r.nomination:<5} "
            f"{r.state:<18} {r.nominee_name} ({r.unit})"
            for r in rows
        ),
    ]
    return Report([r.to_dict() for r in rows], "\n".join(lines) if rows else "(nothing)")


def _publish(service: Service, args: argparse.Namespace) -> Report:
    done = service.publish(_actor(args), args.id, form=args.form, days=args.days)
    ids = ", ".join(f"#{value}" for value in done["nominations"])
    return Report(
        done,
        f"publication {done['publication']} ({done['form']}): {ids} open for comment from "
        f"{done['published_at']} until {done['ends_at']} (Vietnam time)",
    )


def _object(service: Service, args: argparse.Namespace) -> NominationView:
    return service.object_to(_actor(args), args.id, args.reason)


def _revoke(service: Service, args: argparse.Namespace) -> NominationView:
    return service.revoke(
        _actor(args), args.id, number=args.number, date=args.date, reason=args.reason
    )


def _decision_text(decision: dict[str, Any]) -> str:
    lines = [
        f"decision {decision['number']} ngày {decision['date']} — {decision['kind']}, "
        f"{decision['form']}, signed by {decision['signer_name']} ({decision['signer']}) for "
        f"{decision['issuing_unit_name']}; campaign {decision['campaign']}, round "
        f"{decision['round']}"
    ]
    if decision["reason"]:
        lines.append(f"  reason: {decision['reason']}")
    for dossier in decision["dossiers"]:
        n = dossier["nomination"]
        lines.append(f"  #{n['id']} {n['state']} — {n['nominee_name']} ({n['unit_name']})")
        for s in dossier["scores"]:
            lines.append(f"      score {s['criterion']} = {s['points']} by {s['scorer_name']}")
        for s in dossier["signoffs"]:
            lines.append(f"      signed at {s['level']} by {s['person']}")
        for v in dossier["votes"]:
            comment = f" «{v['comment']}»" if v["comment"] else ""
            lines.append(
                f"      vote at {v['level']}: {v['member_name']} ({v['member']}) "
                f"{v['vote']}{comment}"
            )
        lines.append(f"      people: {', '.join(dossier['people'])}")
    return "\n".join(lines)


def _decision_show(service: Service, args: argparse.Namespace) -> Report:
    found = service.decision(args.number, args.unit)
    return Report(found, "\n".join(_decision_text(d) for d in found))


def add_commands(commands: Any, command: Callable[..., Any]) -> None:
    """Add the award-round subcommands to `thidua`'s parser."""
    sub = command("score", _score, "score a nomination on one of its campaign's criteria")
    sub.add_argument("id")
    sub.add_argument("--criterion", required=True, help="the criterion's code")
    sub.add_argument("--points", required=True, type=int, help="whole points, up to its maximum")
    sub.add_argument("--comment")
    sub = command("ranking", _ranking, "rank a campaign's nominations by their scores")
    sub.add_argument("--campaign", required=True)
    sub.add_argument("--round", help="e.g. 2024 (default: every round)")
    sub.add_argument("--kind", choices=list(NOMINEE_KINDS))
    sub = command("publish", _publish, "publish nominations for comment before their decision")
    sub.add_argument("id", nargs="+")
    sub.add_argument("--form", required=True, help="the award form, e.g. 'Bằng khen'")
    sub.add_argument("--days", type=int, help="working days (default: the campaign's, 10)")
    sub = command("object", _object, "record an objection received during public comment")
    sub.add_argument("id")
    sub.add_argument("--reason", required=True)
    sub = command("revoke", _revoke, "revoke an award by a decision of its granting authority")
    sub.add_argument("id")
    sub.add_argument("--number", required=True, help="revoking decision number")
    sub.add_argument("--date", required=True, help="revoking decision date, dd/mm/yyyy")
    sub.add_argument("--reason", required=True)
    decisions = commands.add_parser("decision", help="award decisions")
    decision_commands = decisions.add_subparsers(
        dest="decision_command", required=True, parser_class=commands._parser_class
    )
    sub = command(
        "show",
        _decision_show,
        "a decision, its dossiers, scores, sign-offs and people",
        decision_commands,
    )
    sub.add_argument("number", help="e.g. 163/QĐ-UBND")
    sub.add_argument("--unit", help="the issuing unit's code, when several units used the number")
