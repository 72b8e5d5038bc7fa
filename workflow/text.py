"""Checks on text from users: kept exactly, in NFC, within limits, free of control characters."""

from __future__ import annotations

import re
import unicodedata

from workflow.errors import InvalidInput

__all__ = ["LIMITS", "clean_code", "clean_text", "optional_text"]

#: Longest accepted text per kind of field, in characters.
LIMITS = {"name": 200, "title": 500, "reason": 2000, "code": 64}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")


def clean_text(value: object, field: str, kind: str = "name") -> str:
    """NFC-normalised, trimmed text; refuses empty, oversized or control-character text.

    Vietnamese typed on some systems arrives decomposed (NFD); it is stored composed (NFC) so
    that the same name is the same text everywhere, and in the audit hash.
    """
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidInput(f"{field} must not be empty")
    limit = LIMITS[kind]
    if len(text) > limit:
        raise InvalidInput(f"{field} is {len(text)} characters long; at most {limit} are accepted")
    if _CONTROL.search(text):
        raise InvalidInput(f"{field} contains a control character")
    return text


def optional_text(value: object | None, field: str, kind: str = "reason") -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return clean_text(value, field, kind)


def clean_code(value: object, field: str) -> str:
    """An identifier such as a unit code, username or campaign code: letters, digits, . _ -"""
    text = clean_text(value, field, "code")
    if not _CODE.match(text):
        raise InvalidInput(f"{field} '{text}' may hold only letters a–z, digits, '.', '_' and '-'")
    return text
