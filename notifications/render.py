"""Message text from Jinja2 templates (package data in `templates/`), Vietnamese first.

A template sets `subject` (`{% set subject %}…{% endset %}`) and its output is the body.
Instants in payloads are ISO-8601 UTC strings; templates show them in Vietnam time with
the `vn_time` filter (dd/mm/yyyy HH:MM) and link to the nomination with `link`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from notifications.errors import DeliveryError
from notifications.messages import Message, Rendered

__all__ = ["LEVELS_VI", "Renderer", "vn_time"]

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
LEVELS_VI = {"commune": "cấp xã", "district": "cấp huyện", "province": "cấp tỉnh"}
_LEVELS_EN = {"commune": "commune", "district": "district", "province": "province"}


def vn_time(value: Any, seconds: bool = False) -> str:
    """An ISO-8601 instant (or aware datetime) as dd/mm/yyyy HH:MM in Vietnam time."""
    if value is None or value == "":
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


class Renderer:
    """Renders a message's template; built once, with the base URL of the links."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("notifications", "templates"),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["vn_time"] = vn_time
        self._env.filters["level_vi"] = lambda level: LEVELS_VI.get(level, level or "")
        self._env.filters["level_en"] = lambda level: _LEVELS_EN.get(level, level or "")

    def link(self, nomination_id: Any) -> str:
        return f"{self.base_url}/nominations/{nomination_id}"

    def render(self, template: str, payload: Mapping[str, Any], recipient: str | None) -> Rendered:
        try:
            found = self._env.get_template(f"{template}.txt.j2")
        except jinja2.TemplateNotFound as exc:
            raise DeliveryError(f"no template named '{template}'", permanent=True) from exc
        context = {
            "p": payload,
            "recipient": recipient or "Quý anh/chị",
            "link": self.link(payload.get("nomination_id", "")),
            "base_url": self.base_url,
        }
        try:
            module = found.make_module(context)
        except jinja2.UndefinedError as exc:
            raise DeliveryError(
                f"template '{template}' needs a value its payload lacks: {exc}", permanent=True
            ) from exc
        subject = " ".join(str(getattr(module, "subject", template)).split())
        return Rendered(subject=subject, body=str(module).strip() + "\n")

    def render_message(self, message: Message) -> Rendered:
        return self.render(message.template, message.payload, message.recipient_name)
