"""Server-rendered Vietnamese pages (being built)."""

from fastapi import FastAPI

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Add the web pages' routes to `app`."""
