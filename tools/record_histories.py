"""Record audit histories for CI to replay against the code of every later version.

    .venv/bin/python tools/record_histories.py          # rewrites tests/histories/*.jsonl

Two histories, each played on a fresh SQLite database with a fixed clock:

- demo.jsonl: the sample scenario of `thidua demo` (Quận 12, 2022);
- properties.jsonl: command sequences of the kind the property tests send (tests/integration/
  test_properties.py), drawn from a seeded random generator, so a rerun records the same file.

Each line is one JSON object: {"kind": "entry", …every audit_log column, `at` in encoding-1
text…} in id order, then {"kind": "nomination", "id", "state", "version", "last_hash"} per
nomination. tests/unit/test_recorded_histories.py recomputes every hash from the recorded fields
and replays every nomination. Record again only together with a new encoding version: a recorded
history is a promise that the entries it holds verify and replay the same forever.
"""

from __future__ import annotations

import io
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import EXTRA, vn  # noqa: E402
from tests.integration.helpers import HCM, Q12, register_ward  # noqa: E402
from tests.integration.test_properties import COMMANDS, PEOPLE, next_move, send  # noqa: E402
from workflow import demo  # noqa: E402
from workflow.clock import FixedClock  # noqa: E402
from workflow.db import make_engine, migrate  # noqa: E402
from workflow.encoding import COLUMNS, at_text  # noqa: E402
from workflow.errors import WorkflowError  # noqa: E402
from workflow.logs import configure_logging  # noqa: E402
from workflow.service import Service  # noqa: E402

OUT = ROOT / "tests" / "histories"
SEQUENCES = 40
SEED = 2022


def dump(service: Service, path: Path) -> int:
    lines: list[str] = []
    names = [name.strip() for name in COLUMNS.split(",")]
    with service.engine.connect() as connection:
        for row in connection.exec_driver_sql(f"SELECT {COLUMNS} FROM audit_log ORDER BY id"):
            record: dict[str, Any] = {"kind": "entry", **dict(zip(names, row, strict=True))}
            record["at"] = at_text(record["at"])
            lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
        for nid, state, version, last_hash in connection.exec_driver_sql(
            "SELECT id, state, version, last_hash FROM nominations ORDER BY id"
        ):
            nomination = {"kind": "nomination", "id": nid, "state": state, "version": version}
            nomination["last_hash"] = last_hash
            lines.append(json.dumps(nomination, ensure_ascii=False, sort_keys=True))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def fresh(folder: str, name: str) -> Service:
    engine = make_engine(f"sqlite:///{folder}/{name}.sqlite3")
    migrate(engine)
    return Service(engine, FixedClock(vn(20, 4)))


def record_demo(folder: str) -> Service:
    service = fresh(folder, "demo")
    demo.run(service, out=io.StringIO())
    return service


def record_properties(folder: str) -> Service:
    service = fresh(folder, "properties")
    service.load(demo.sample_data(), actor="quantri")
    service.load(EXTRA, actor="quantri.hcm")
    draw = random.Random(SEED)
    for _ in range(SEQUENCES):
        campaign = draw.choice([Q12, HCM])
        view = register_ward(service, campaign=campaign)
        for _ in range(draw.randint(1, 25)):
            pick = draw.randint(0, 29)
            step = None
            if draw.random() < 0.3:
                step = (draw.choice(COMMANDS), draw.choice(PEOPLE))
            command, person = step or next_move(service, view.id, campaign, pick)
            try:
                send(service, command, person, view.id)
            except WorkflowError:
                continue
    return service


def main() -> None:
    configure_logging("warning")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for name, play in (("demo", record_demo), ("properties", record_properties)):
            service = play(folder)
            lines = dump(service, OUT / f"{name}.jsonl")
            service.engine.dispose()
            print(f"{OUT / f'{name}.jsonl'}: {lines} lines")


if __name__ == "__main__":
    main()
