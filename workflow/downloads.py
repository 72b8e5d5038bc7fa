"""An audit export served as a download, for the API and the pages alike: written to a
temporary folder of its own, removed once sent (or at once when the export is refused)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from workflow.export import MEDIA_TYPES, check_format
from workflow.service import Service

__all__ = ["audit_download"]


def audit_download(
    service: Service,
    fmt: str,
    name: str,
    *,
    reader: str,
    nomination: object = None,
    campaign: str | None = None,
) -> FileResponse:
    """The entries `reader` may export, in `fmt`, as the file `name`.`fmt`."""
    check_format(fmt)  # before the format becomes part of a path
    folder = Path(tempfile.mkdtemp(prefix="thidua-export-"))
    target = folder / f"{name}.{fmt}"
    try:
        service.export_audit(
            str(target), fmt, nomination=nomination, campaign=campaign, reader=reader
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        target,
        media_type=MEDIA_TYPES[fmt],
        filename=target.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
