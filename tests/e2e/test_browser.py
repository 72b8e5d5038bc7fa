"""In a real browser (Debian's chromium, driven by Playwright) against `thidua serve --demo`:
an officer registers, marks implemented and reports; an approver signs in, finds the dossier in
the inbox, approves it, and the timeline shows the approval. Screenshots of the inbox and of the
nomination page are kept in build/screenshots/ (never committed)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.polling import wait_for
from workflow.live_sample import DEMO_PASSWORD, live_campaign_code

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`thidua serve --demo` on a free port over a new SQLite file, stopped after the test."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    env.update(
        THIDUA_DATABASE_URL=f"sqlite:///{tmp_path / 'thidua.sqlite3'}",
        THIDUA_SCHEDULER="0",
        THIDUA_DISPATCHER="0",
        THIDUA_LOG_LEVEL="warning",
        PYTHONIOENCODING="utf-8",
    )
    log = (tmp_path / "server.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "workflow.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: process.poll() is not None or _answers(f"{base}/dang-nhap"),
            120,
            "thidua serve --demo to answer",
        )
        assert process.poll() is None, (tmp_path / "server.log").read_text(encoding="utf-8")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def _chromium() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + " — CI is set: the browser test must run")
        pytest.skip(message)
    return CHROMIUM


def test_an_officer_reports_and_an_approver_approves_in_a_real_browser(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    executable = _chromium()
    campaign = live_campaign_code(datetime.now(UTC))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=ARGS)
        try:
            officer = browser.new_page(viewport={"width": 1280, "height": 800})
            officer.goto(f"{server}/ho-so/dang-ky")
            expect(officer.locator("h1")).to_have_text("Đăng nhập")  # sent to sign in first
            officer.fill("#username", "hung.thanhxuan")
            officer.fill("#password", DEMO_PASSWORD)
            officer.click("button:has-text('Đăng nhập')")
            expect(officer.locator("h1")).to_have_text("Đăng ký mô hình, giải pháp, sáng kiến")
            officer.select_option("#campaign", campaign)
            officer.select_option("#unit", "26734")
            officer.select_option("#nominee_kind", "collective")
            officer.fill("#nominee_name", "Tổ Một cửa khu phố 3")
            officer.fill("#title", "Trả kết quả thủ tục tại nhà cho người cao tuổi")
            officer.select_option("#area", "thu_tuc_hanh_chinh")
            officer.click("main button:has-text('Đăng ký')")
            expect(officer.locator(".flash")).to_have_text("Đã đăng ký hồ sơ.")
            heading = officer.locator("h1").inner_text()
            number = heading.split("#", 1)[1].split(":", 1)[0]
            officer.click("button:has-text('Đánh dấu đã triển khai')")
            expect(officer.locator(".flash")).to_have_text("Đã đánh dấu hồ sơ đã triển khai.")
            officer.click("main button:has-text('Báo cáo kết quả')")
            expect(officer.locator(".flash")).to_contain_text("Đã báo cáo kết quả")
            expect(officer.locator("table.details .badge")).to_have_text("Chờ xã duyệt")
            officer.click("header button:has-text('Đăng xuất')")
            expect(officer.locator(".flash")).to_have_text("Đã đăng xuất.")

            approver = browser.new_page(viewport={"width": 1280, "height": 800})
            approver.goto(f"{server}/dang-nhap")
            approver.fill("#username", "chutich.thanhxuan")
            approver.fill("#password", DEMO_PASSWORD)
            approver.click("button:has-text('Đăng nhập')")
            approver.click("header a:has-text('Hộp việc')")
            expect(approver.locator("h1")).to_have_text("Hộp việc")
            row = approver.locator("tbody tr", has_text="Tổ Một cửa khu phố 3")
            expect(row).to_contain_text(f"#{number}")
            expect(row).to_contain_text("Chờ xã duyệt")
            approver.screenshot(path=str(SCREENSHOTS / "inbox.png"), full_page=True)
            row.locator("a", has_text="Tổ Một cửa khu phố 3").click()
            expect(approver.locator("h1")).to_have_text(f"Hồ sơ #{number}: Tổ Một cửa khu phố 3")
            approver.fill("#approve-comment", "Mô hình thiết thực, đề nghị huyện xem xét")
            approver.click("button:has-text('Duyệt')")
            expect(approver.locator(".flash")).to_have_text("Đã duyệt hồ sơ.")
            expect(approver.locator("table.details .badge")).to_have_text("Chờ huyện duyệt")
            last = approver.locator("ol.timeline li").last
            expect(last).to_contain_text("Duyệt: Đã báo cáo → Xã đã duyệt")
            expect(last).to_contain_text("«Mô hình thiết thực, đề nghị huyện xem xét»")
            approver.screenshot(path=str(SCREENSHOTS / "nomination.png"), full_page=True)
            approver.goto(f"{server}/hop-viec")
            expect(approver.locator("tbody")).not_to_contain_text("Tổ Một cửa khu phố 3")
        finally:
            browser.close()
    inbox = SCREENSHOTS / "inbox.png"
    assert inbox.stat().st_size > 10_000
    print(f"screenshots: {inbox} and {SCREENSHOTS / 'nomination.png'}")
