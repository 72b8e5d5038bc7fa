"""The CLI commands of the server: serve, API tokens, sign-in passwords.

Thin, like the rest of the CLI: parse, call the service, render.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any

from workflow.errors import InvalidInput
from workflow.service import Service
from workflow.settings import Settings

__all__ = ["add_commands"]

Handler = Callable[[Service, argparse.Namespace], Any]


def _serve(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    from workflow import live_sample, server

    settings = Settings.from_env(os.environ)
    changes: dict[str, Any] = {}
    if args.host:
        changes["host"] = args.host
    if args.port is not None:
        if not 0 < args.port < 65536:
            raise InvalidInput(f"--port {args.port} is not a port number (1–65535)")
        changes["port"] = args.port
    if args.workers is not None:
        if not 0 < args.workers <= 64:
            raise InvalidInput(f"--workers {args.workers} is not a number of processes (1–64)")
        changes["workers"] = args.workers
    settings = dataclasses.replace(settings, **changes)
    if args.demo:
        live_sample.prepare(service, sys.stderr)

    def ready(address: str) -> None:
        print(f"thidua: phục vụ tại {address}/ (API: {address}/api/v1/docs)", file=sys.stderr)

    server.serve(service, settings, ready)
    return {"stopped": True}


def _token_create(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    return service.create_token(args.username, args.name)


def _token_list(service: Service, args: argparse.Namespace) -> list[dict[str, Any]]:
    return service.tokens(args.username)


def _token_revoke(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    return service.revoke_token(args.id)


def _password(service: Service, args: argparse.Namespace) -> dict[str, Any]:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Mật khẩu mới cho {args.username}: ")
        if getpass.getpass("Nhập lại: ") != password:
            raise InvalidInput("the two passwords differ; nothing was changed")
    service.set_password(args.username, password)
    return {"person": args.username, "password": "set"}


def add_commands(commands: Any, command: Callable[..., Any], person_commands: Any) -> None:
    """Add serve, token and person password to `thidua`'s parser."""
    sub = command("serve", _serve, "run the API, the web pages, the scheduler and the dispatcher")
    sub.add_argument("--host", help="address to listen on (THIDUA_HOST, default 127.0.0.1)")
    sub.add_argument("--port", type=int, help="port (THIDUA_PORT, default 8000)")
    sub.add_argument(
        "--workers", type=int, help="server processes on the port (THIDUA_WORKERS, default 1)"
    )
    sub.add_argument(
        "--demo", action="store_true", help="load the Quận 12 sample and its sign-in passwords"
    )
    tokens = commands.add_parser("token", help="bearer tokens of the HTTP API")
    token_commands = tokens.add_subparsers(
        dest="token_command", required=True, parser_class=commands._parser_class
    )
    sub = command("create", _token_create, "make a token for a person", token_commands)
    sub.add_argument("username")
    sub.add_argument("--name", default="api", help="what the token is for")
    sub = command("list", _token_list, "a person's tokens (never their secrets)", token_commands)
    sub.add_argument("username")
    sub = command("revoke", _token_revoke, "revoke a token by its id", token_commands)
    sub.add_argument("id")
    sub = command("password", _password, "set a person's web sign-in password", person_commands)
    sub.add_argument("username")
    sub.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
