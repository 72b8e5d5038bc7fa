"""The Vietnamese web pages over a real server (SQLite and PostgreSQL): sign-in, CSRF, each
role's pages, every form's success and refusal, dates in Vietnam time."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import openpyxl
import pytest
import sqlalchemy as sa

from tests.conftest import snapshot, vn
from tests.integration.helpers import Q12, register_ward, reported_ward
from tests.integration.test_audit import allow_tampering
from tests.polling import scalar
from tests.web import PASSWORD, Visitor, error_of, flash_of, serving
from workflow.clock import FixedClock
from workflow.service import Service
from workflow.settings import Settings
from workflow.web import dossiers

#: Who signs in without the `visitors` fixture (which gives a password to whoever it opens).
PEOPLE = ["hung.thanhxuan", "chutich.thanhxuan"]


@pytest.fixture
def site(world: Service) -> Iterator[str]:
    for username in PEOPLE:
        world.set_password(username, PASSWORD)
    with serving(world) as base:
        yield base


@pytest.fixture
def visitors(world: Service, site: str) -> Iterator[dict[str, Visitor]]:
    """One browser per person, signed in on first use."""
    opened: list[Visitor] = []

    class Browsers(dict[str, Visitor]):
        def __missing__(self, username: str) -> Visitor:
            if username not in PEOPLE:
                world.set_password(username, PASSWORD)
            visitor = Visitor(site)
            visitor.sign_in(username)
            self[username] = visitor
            opened.append(visitor)
            return visitor

    yield Browsers()
    for visitor in opened:
        visitor.close()


def audit_count(engine: sa.Engine) -> int:
    return int(scalar(engine, "SELECT count(*) FROM audit_log"))


def row_of(page: str, nomination_id: int) -> str:
    found = re.search(rf'<tr>\s*<td><a href="/ho-so/{nomination_id}">.*?</tr>', page, re.S)
    assert found, f"no row of nomination {nomination_id}"
    return found.group(0)


# -- sign-in and sign-out -----------------------------------------------------------------------


def test_signing_in_opens_a_session_that_names_the_person_and_their_roles(site: str) -> None:
    browser = Visitor(site)
    answer = browser.sign_in("chutich.thanhxuan")
    assert answer.status_code == 200
    assert str(answer.url).endswith("/")
    assert '<html lang="vi">' in answer.text
    assert "Xin chào" in answer.text
    assert "(chutich.thanhxuan)" in answer.text
    assert "Lãnh đạo phê duyệt — Phường Thạnh Xuân (26734)" in answer.text
    cookie = answer.history[0].headers["set-cookie"]
    assert "thidua_phien=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie
    browser.close()


def test_a_wrong_password_and_an_unknown_person_get_one_vietnamese_refusal_and_write_nothing(
    site: str, engine: sa.Engine
) -> None:
    browser = Visitor(site)
    before = snapshot(engine), scalar(engine, "SELECT count(*) FROM web_sessions")
    for username, password in (("hung.thanhxuan", "sai-mat-khau"), ("khong.co.ai", PASSWORD)):
        answer = browser.sign_in(username, password)
        assert answer.status_code == 401
        assert error_of(answer) == "Tên đăng nhập hoặc mật khẩu không đúng."
        assert "thidua_phien" not in browser.client.cookies
    assert (snapshot(engine), scalar(engine, "SELECT count(*) FROM web_sessions")) == before
    assert browser.get("/hop-viec", follow=False).status_code == 303
    browser.close()


def test_after_five_wrong_passwords_the_form_asks_to_wait_even_for_the_right_one(
    site: str, engine: sa.Engine
) -> None:
    browser = Visitor(site)
    for attempt in range(5):
        assert browser.sign_in("hung.thanhxuan", f"doan-{attempt}").status_code == 401
    held = browser.sign_in("hung.thanhxuan", PASSWORD)
    assert held.status_code == 429
    assert held.headers["retry-after"] == "900"
    assert error_of(held) == (
        "Đã đăng nhập sai 5 lần liên tiếp với tên này. Vui lòng thử lại sau 20/04/2022 09:15."
    )
    assert "thidua_phien" not in browser.client.cookies
    assert scalar(engine, "SELECT count(*) FROM web_sessions") == 0
    assert browser.sign_in("chutich.thanhxuan").status_code == 200  # another name is not held
    browser.close()


def test_a_page_without_a_session_sends_to_the_sign_in_form_and_back(site: str) -> None:
    browser = Visitor(site)
    answer = browser.get("/hop-viec", follow=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dang-nhap?tiep=/hop-viec"
    browser.get(answer.headers["location"])
    answer = browser.post(
        "/dang-nhap", {"username": "chutich.thanhxuan", "password": PASSWORD, "tiep": "/hop-viec"}
    )
    assert str(answer.url).endswith("/hop-viec")
    assert "<h1>Hộp việc</h1>" in answer.text
    browser.close()


def test_sign_in_never_redirects_to_another_site(site: str) -> None:
    browser = Visitor(site)
    browser.get("/dang-nhap")
    answer = browser.client.post(
        "/dang-nhap",
        data={
            "csrf": browser.csrf(),
            "username": "hung.thanhxuan",
            "password": PASSWORD,
            "tiep": "//evil.example/",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    browser.close()


def test_the_sign_in_form_needs_its_double_submit_token(site: str, engine: sa.Engine) -> None:
    browser = Visitor(site)
    browser.get("/dang-nhap")
    token = browser.csrf()
    for sent in ("", "sai" + token):
        answer = browser.client.post(
            "/dang-nhap",
            data={"csrf": sent, "username": "hung.thanhxuan", "password": PASSWORD},
        )
        assert answer.status_code == 403
        assert "mã chống giả mạo (CSRF)" in error_of(answer)
    # The right token in the form but no cookie: refused too.
    browser.client.cookies.clear()
    answer = browser.client.post(
        "/dang-nhap", data={"csrf": token, "username": "hung.thanhxuan", "password": PASSWORD}
    )
    assert answer.status_code == 403
    assert scalar(engine, "SELECT count(*) FROM web_sessions") == 0
    browser.close()


def test_signing_out_ends_the_session(site: str, engine: sa.Engine) -> None:
    browser = Visitor(site)
    browser.sign_in("hung.thanhxuan")
    secret = browser.client.cookies["thidua_phien"]
    answer = browser.post("/dang-xuat")
    assert flash_of(answer) == "Đã đăng xuất."
    assert scalar(engine, "SELECT count(*) FROM web_sessions") == 0
    browser.client.cookies.set("thidua_phien", secret)
    assert browser.get("/ho-so", follow=False).status_code == 303
    browser.close()


# -- CSRF on every form -------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "sai-ma"])
def test_a_form_without_the_sessions_csrf_token_is_refused_and_writes_nothing(
    world: Service, visitors: dict[str, Visitor], engine: sa.Engine, token: str
) -> None:
    view = register_ward(world)
    officer = visitors["hung.thanhxuan"]
    officer.get(f"/ho-so/{view.id}")
    before, count = snapshot(engine), audit_count(engine)
    answer = officer.post(f"/ho-so/{view.id}/trien-khai", csrf=token)
    assert answer.status_code == 403
    assert "Không có gì được ghi" in error_of(answer)
    answer = officer.post(
        "/ho-so/dang-ky",
        {"campaign": Q12, "unit": "26734", "nominee_kind": "collective"},
        csrf=token,
    )
    assert answer.status_code == 403
    assert audit_count(engine) == count
    assert snapshot(engine) == before
    assert world.show(view.id).state == "registered"


def test_another_persons_csrf_token_does_not_pass(
    world: Service, visitors: dict[str, Visitor], engine: sa.Engine
) -> None:
    view = reported_ward(world)
    visitors["hung.thanhxuan"].get("/ho-so")
    foreign = visitors["hung.thanhxuan"].csrf()
    count = audit_count(engine)
    answer = visitors["chutich.thanhxuan"].post(f"/ho-so/{view.id}/duyet", csrf=foreign)
    assert answer.status_code == 403
    assert audit_count(engine) == count


# -- every page for every role ------------------------------------------------------------------


PAGES = ["/", "/ho-so", "/ho-so/dang-ky", "/hop-viec", "/khen-thuong", "/kiem-tra"]


@pytest.mark.parametrize(
    ("username", "refused"),
    [
        ("hung.thanhxuan", {"/kiem-tra"}),
        ("chutich.thanhxuan", {"/kiem-tra"}),
        ("chutich.q12", {"/kiem-tra"}),
        ("thanhtra.q12", set()),
    ],
)
def test_each_page_renders_for_each_role(
    world: Service, visitors: dict[str, Visitor], username: str, refused: set[str]
) -> None:
    reported_ward(world)
    browser = visitors[username]
    for path in PAGES:
        answer = browser.get(path)
        expected = 403 if path in refused else 200
        assert answer.status_code == expected, path
        assert '<html lang="vi">' in answer.text
        assert f"({username})" in answer.text  # the header names who is signed in
        assert "Đăng xuất" in answer.text
    if "/kiem-tra" in refused:
        assert "Không được phép" in error_of(browser.get("/kiem-tra"))


def test_the_menu_follows_the_roles(visitors: dict[str, Visitor]) -> None:
    officer = visitors["hung.thanhxuan"].get("/").text
    approver = visitors["chutich.thanhxuan"].get("/").text
    auditor = visitors["thanhtra.q12"].get("/").text
    assert '<a href="/ho-so/dang-ky">Đăng ký</a>' in officer
    assert '<a href="/hop-viec">' not in officer
    assert '<a href="/hop-viec">Hộp việc</a>' in approver
    assert '<a href="/ho-so/dang-ky">' not in approver
    assert '<a href="/kiem-tra">Kiểm tra nhật ký</a>' in auditor
    assert '<a href="/kiem-tra">' not in approver


def test_the_pages_stay_out_of_the_openapi_document(site: str) -> None:
    browser = Visitor(site)
    paths = browser.get("/api/v1/openapi.json").json()["paths"]
    assert paths
    assert all(path.startswith("/api/v1/") for path in paths)
    browser.close()


# -- the officer --------------------------------------------------------------------------------


def test_an_officer_registers_implements_and_reports_through_the_pages(
    world: Service, visitors: dict[str, Visitor]
) -> None:
    officer = visitors["hung.thanhxuan"]
    form = officer.get("/ho-so/dang-ky").text
    assert f'<option value="{Q12}"' in form
    assert '<option value="26734"' in form
    assert "Xây dựng và phát triển chính quyền điện tử, chính quyền số" in form
    answer = officer.post(
        "/ho-so/dang-ky",
        {
            "campaign": Q12,
            "unit": "26734",
            "nominee_kind": "individual",
            "nominee_name": "Bà Nguyễn Thị Ánh",
            "title": "Ứng dụng Zalo trả kết quả thủ tục",
            "area": "chinh_quyen_so",
        },
    )
    assert answer.status_code == 200
    assert flash_of(answer) == "Đã đăng ký hồ sơ."
    number = int(str(answer.url).split("/ho-so/")[1].split("?")[0])
    assert world.show(number).nominee_name == "Bà Nguyễn Thị Ánh"
    assert world.show(number).proposer == "hung.thanhxuan"
    assert "Đã đăng ký" in answer.text and "Cá nhân" in answer.text
    answer = officer.post(f"/ho-so/{number}/trien-khai")
    assert flash_of(answer) == "Đã đánh dấu hồ sơ đã triển khai."
    assert world.show(number).state == "implemented"
    listing = officer.get("/ho-so").text
    assert "Đã triển khai" in row_of(listing, number)
    assert "Báo cáo kết quả" in row_of(listing, number)
    answer = officer.post(f"/ho-so/{number}/bao-cao")
    assert flash_of(answer) == "Đã báo cáo kết quả; hồ sơ chuyển lên cấp xét duyệt."
    assert world.show(number).state == "reported"
    assert "Chờ xã duyệt" in row_of(officer.get("/ho-so").text, number)


def test_a_refused_step_shows_the_services_message_in_vietnamese_with_its_status(
    world: Service, visitors: dict[str, Visitor], engine: sa.Engine
) -> None:
    view = register_ward(world)
    officer = visitors["hung.thanhxuan"]
    officer.get(f"/ho-so/{view.id}")
    count = audit_count(engine)
    answer = officer.post(f"/ho-so/{view.id}/bao-cao")
    assert answer.status_code == 409
    assert error_of(answer).startswith("Trạng thái hồ sơ không cho phép thao tác này: ")
    assert "'report' needs 'implemented'" in error_of(answer)
    answer = officer.post(
        "/ho-so/dang-ky",
        {
            "campaign": Q12,
            "unit": "26734",
            "nominee_kind": "collective",
            "nominee_name": "Tổ Một cửa",
            "title": "",
            "area": "the_che",
        },
    )
    assert answer.status_code == 422
    assert error_of(answer).startswith("Dữ liệu chưa hợp lệ: ")
    assert 'value="Tổ Một cửa"' in answer.text  # the form keeps what was typed
    answer = officer.post(
        "/ho-so/dang-ky",
        {
            "campaign": Q12,
            "unit": "26740",
            "nominee_kind": "collective",
            "nominee_name": "Tổ Một cửa",
            "title": "Sáng kiến",
            "area": "the_che",
        },
    )
    assert answer.status_code == 403
    assert error_of(answer).startswith("Không được phép (quy tắc «")
    assert audit_count(engine) == count


def test_an_officer_supplements_a_returned_dossier(
    world: Service, visitors: dict[str, Visitor]
) -> None:
    view = reported_ward(world)
    world.return_for_supplement("chutich.thanhxuan", view.id, "Thiếu biên bản nghiệm thu")
    officer = visitors["hung.thanhxuan"]
    page = officer.get(f"/ho-so/{view.id}").text
    assert "Trả lại bổ sung" in page
    assert "«Thiếu biên bản nghiệm thu»" in page
    assert f'action="/ho-so/{view.id}/nop-lai"' in page
    answer = officer.post(f"/ho-so/{view.id}/nop-lai", {"note": "Đã bổ sung biên bản"})
    assert flash_of(answer) == "Đã nộp lại hồ sơ bổ sung."
    assert world.show(view.id).state == "reported"
    assert "«Đã bổ sung biên bản»" in answer.text
    assert "Nộp lại hồ sơ bổ sung" in answer.text


def test_an_officer_withdraws_with_a_reason(world: Service, visitors: dict[str, Visitor]) -> None:
    view = register_ward(world)
    officer = visitors["hung.thanhxuan"]
    officer.get(f"/ho-so/{view.id}")
    answer = officer.post(f"/ho-so/{view.id}/rut", {"reason": ""})
    assert answer.status_code == 422
    answer = officer.post(f"/ho-so/{view.id}/rut", {"reason": "Trùng với hồ sơ khác"})
    assert flash_of(answer) == "Đã rút hồ sơ."
    assert world.show(view.id).state == "withdrawn"
    assert "Đã rút" in answer.text


def test_another_wards_nomination_page_is_refused(
    world: Service, visitors: dict[str, Visitor]
) -> None:
    theirs = reported_ward(world, officer="mai.hiepthanh", unit="26740")
    officer = visitors["hung.thanhxuan"]
    answer = officer.get(f"/ho-so/{theirs.id}")
    assert answer.status_code == 403
    assert error_of(answer).startswith("Không được phép")
    assert "Hợp" not in answer.text.split("<main>")[1].split("</p>")[-1]
    assert f"#{theirs.id}" not in officer.get("/ho-so").text
    assert visitors["chutich.thanhxuan"].get(f"/ho-so/{theirs.id}").status_code == 403
    missing = officer.get("/ho-so/999999")
    assert missing.status_code in (403, 404)


# -- the approver -------------------------------------------------------------------------------


def test_the_inbox_shows_each_dossiers_review_deadline_and_marks_the_overdue(
    world: Service, visitors: dict[str, Visitor], clock: FixedClock
) -> None:
    view = reported_ward(world)
    approver = visitors["chutich.thanhxuan"]
    row = row_of(approver.get("/hop-viec").text, view.id)
    assert "Chờ xã duyệt" in row
    assert "20/04/2022 09:00" in row  # reached the level, Vietnam time
    due = world.review_limits([view.id])[view.id]["due_at"]
    assert due.strftime("%d/%m/%Y") not in ("20/04/2022",)
    assert "Quá hạn" not in row
    clock.advance(timedelta(days=40))  # the session has ended meanwhile: sign in again
    assert approver.get("/hop-viec", follow=False).status_code == 303
    del visitors["chutich.thanhxuan"]
    row = row_of(visitors["chutich.thanhxuan"].get("/hop-viec").text, view.id)
    assert '<span class="badge overdue">Quá hạn</span>' in row
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d <span class=\"badge overdue\">", row)
    # Another ward's approver does not see it.
    assert f"#{view.id}" not in visitors["chutich.hiepthanh"].get("/hop-viec").text


def test_an_approver_approves_with_a_comment_and_the_timeline_shows_it(
    world: Service, visitors: dict[str, Visitor]
) -> None:
    view = reported_ward(world)
    approver = visitors["chutich.thanhxuan"]
    page = approver.get(f"/ho-so/{view.id}").text
    assert "Dòng thời gian" in page
    assert page.count('<li>\n    <div class="when">') == 3  # register, implement, report
    answer = approver.post(f"/ho-so/{view.id}/duyet", {"comment": "Đạt yêu cầu"})
    assert answer.status_code == 200
    assert flash_of(answer) == "Đã duyệt hồ sơ."
    assert world.show(view.id).state == "commune_reviewed"
    assert "Chờ huyện duyệt" in answer.text
    timeline = answer.text.split('id="dong-thoi-gian"')[1]
    assert "Duyệt: Đã báo cáo → Xã đã duyệt" in timeline
    assert "«Đạt yêu cầu»" in timeline
    assert "20/04/2022 09:00" in timeline
    # The dossier now awaits the district: the ward's chairman has nothing more to do on it.
    assert '<div class="actions">' not in answer.text
    assert "Không có thao tác nào của bạn ở bước này của hồ sơ." in answer.text
    # Approving again is refused with the service's message.
    answer = approver.post(f"/ho-so/{view.id}/duyet", {"comment": ""})
    assert answer.status_code in (403, 409)
    assert error_of(answer)


def test_an_approver_returns_and_rejects_with_their_reason(
    world: Service, visitors: dict[str, Visitor]
) -> None:
    first = reported_ward(world)
    second = reported_ward(world, name="Tổ dân phố 5")
    approver = visitors["chutich.thanhxuan"]
    approver.get(f"/ho-so/{first.id}")
    answer = approver.post(f"/ho-so/{first.id}/tra-lai", {"reason": ""})
    assert answer.status_code == 422
    assert world.show(first.id).state == "reported"
    answer = approver.post(f"/ho-so/{first.id}/tra-lai", {"reason": "Bổ sung số liệu"})
    assert flash_of(answer) == "Đã trả lại hồ sơ để bổ sung."
    assert world.show(first.id).state == "returned"
    assert "«Bổ sung số liệu»" in answer.text
    answer = approver.post(f"/ho-so/{second.id}/tu-choi", {"reason": "Không đúng lĩnh vực"})
    assert flash_of(answer) == "Đã từ chối hồ sơ."
    assert world.show(second.id).state == "rejected"
    assert "Không được duyệt" in answer.text


def test_a_proposer_cannot_approve_through_the_pages(
    world: Service, visitors: dict[str, Visitor], engine: sa.Engine
) -> None:
    view = reported_ward(world)
    officer = visitors["hung.thanhxuan"]
    page = officer.get(f"/ho-so/{view.id}").text
    assert f'action="/ho-so/{view.id}/duyet"' not in page  # no approver role, no form
    count = audit_count(engine)
    answer = officer.post(f"/ho-so/{view.id}/duyet", {"comment": "tự duyệt"})
    assert answer.status_code == 403
    assert error_of(answer).startswith("Không được phép")
    assert audit_count(engine) == count


# -- councils, scores, the award decision --------------------------------------------------------

ROUND = "Q12-GK-2022"


@pytest.fixture
def scored_round(world: Service) -> Service:
    """A district campaign with criteria, a quota and a district council of two."""
    world.load(
        {
            "campaigns": [
                {
                    "code": ROUND,
                    "name": "Giấy khen cải cách hành chính Quận 12 năm 2022",
                    "issuing_unit": "761",
                    "award_level": "district",
                    "registration_deadline": "05/05/2022",
                    "report_deadline": "01/12/2022",
                    "tiers": ["commune", "district", "province"],
                    "criteria": [
                        {"code": "hieu_qua", "name": "Hiệu quả thực tế", "max_points": 60},
                        {"code": "lan_toa", "name": "Mức độ lan tỏa", "max_points": 40},
                    ],
                    "quotas": {"collective": 2},
                    "councils": [
                        {
                            "level": "district",
                            "members": ["chutich.q12", "pho.q12"],
                            "threshold": "2/2",
                        }
                    ],
                }
            ]
        },
        actor="quantri",
    )
    return world


def test_council_members_vote_and_an_approver_scores_on_the_nomination_page(
    scored_round: Service, visitors: dict[str, Visitor]
) -> None:
    view = reported_ward(scored_round, campaign=ROUND)
    scored_round.approve("chutich.thanhxuan", view.id)
    chairman = visitors["chutich.q12"]
    page = chairman.get(f"/ho-so/{view.id}").text
    assert "Biểu quyết của Hội đồng" in page
    assert "Hiệu quả thực tế (tối đa 60)" in page
    answer = chairman.post(
        f"/ho-so/{view.id}/cham-diem", {"criterion": "hieu_qua", "points": "55", "comment": ""}
    )
    assert flash_of(answer) == "Đã chấm điểm."
    answer = chairman.post(f"/ho-so/{view.id}/cham-diem", {"criterion": "lan_toa", "points": "x"})
    assert answer.status_code == 422
    answer = chairman.post(f"/ho-so/{view.id}/cham-diem", {"criterion": "lan_toa", "points": "99"})
    assert answer.status_code == 403
    assert error_of(answer).startswith("Không được phép (quy tắc «max_points»)")
    assert "99 points is above the maximum of 40" in error_of(answer)
    answer = chairman.post(
        f"/ho-so/{view.id}/bieu-quyet", {"choice": "dong-y", "comment": "Nhất trí"}
    )
    assert flash_of(answer) == "Đã ghi nhận biểu quyết."
    assert "chưa biểu quyết: pho.q12" in answer.text
    answer = chairman.post(f"/ho-so/{view.id}/bieu-quyet", {"choice": "dong-y"})
    assert answer.status_code in (403, 409)
    deputy = visitors["pho.q12"]
    deputy.get(f"/ho-so/{view.id}")
    answer = deputy.post(f"/ho-so/{view.id}/bieu-quyet", {"choice": "dong-y", "comment": ""})
    assert flash_of(answer) == "Đã ghi nhận biểu quyết."
    assert scored_round.show(view.id).state == "district_reviewed"
    assert "Huyện đã duyệt" in answer.text
    assert "Chấm điểm" in answer.text and "Biểu quyết" in answer.text


def test_the_award_authority_ranks_and_decides_within_the_quota(
    scored_round: Service, visitors: dict[str, Visitor], engine: sa.Engine
) -> None:
    views = [
        reported_ward(scored_round, campaign=ROUND, name=f"Tổ Một cửa khu phố {n}")
        for n in (1, 2, 3)
    ]
    for view, points in zip(views, (30, 50, 40), strict=True):
        scored_round.approve("chutich.thanhxuan", view.id)
        scored_round.score("chutich.q12", view.id, criterion="hieu_qua", points=points)
        scored_round.vote("chutich.q12", view.id, approve=True)
        scored_round.vote("pho.q12", view.id, approve=True)
    chairman = visitors["chutich.q12"]
    page = chairman.get("/khen-thuong").text
    assert "Giấy khen cải cách hành chính Quận 12 năm 2022 (Q12-GK-2022)" in page
    ranked = re.findall(
        r'value="(\d+)" aria-label=.*?</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>', page, re.S
    )
    assert [(int(n), int(rank), int(total)) for n, rank, total in ranked] == [
        (views[0].id, 3, 30),
        (views[1].id, 1, 50),
        (views[2].id, 2, 40),
    ]
    assert "<td>2022</td><td>Tập thể</td>" in page
    assert re.search(r"<td>2</td>\s*<td>0</td>\s*<td>2</td>\s*<td>3</td>", page)  # quota, spent
    assert 'value="20/04/2022"' in page  # today, dd/mm/yyyy
    count = audit_count(engine)
    answer = chairman.post(
        "/khen-thuong",
        {
            "number": "15/QĐ-UBND",
            "date": "20/04/2022",
            "form": "Giấy khen",
            "nomination": [str(v.id) for v in views],
        },
    )
    assert answer.status_code == 403
    assert error_of(answer).startswith("Không được phép (quy tắc «quota»)")
    assert audit_count(engine) == count
    answer = chairman.post(
        "/khen-thuong",
        {
            "number": "15/QĐ-UBND",
            "date": "31/02/2022",
            "form": "Giấy khen",
            "nomination": [str(views[1].id)],
        },
    )
    assert answer.status_code == 422
    answer = chairman.post("/khen-thuong", {"number": "15/QĐ-UBND", "date": "20/04/2022"})
    assert answer.status_code == 422
    assert "chọn ít nhất một hồ sơ" in error_of(answer)
    answer = chairman.post(
        "/khen-thuong",
        {
            "number": "15/QĐ-UBND",
            "date": "20/04/2022",
            "form": "Giấy khen",
            "nomination": [str(views[1].id), str(views[2].id)],
        },
    )
    assert flash_of(answer) == "Đã ban hành quyết định khen thưởng."
    assert scored_round.show(views[1].id).state == "awarded"
    assert re.search(r"<td>2</td>\s*<td>2</td>\s*<td>0</td>\s*<td>1</td>", answer.text)
    page = chairman.get(f"/ho-so/{views[1].id}").text
    assert "Giấy khen — số 15/QĐ-UBND, ngày 20/04/2022" in page
    assert "Đã khen thưởng" in page
    # An approver of a ward decides nothing here.
    assert "Không có hồ sơ nào" in visitors["chutich.thanhxuan"].get("/khen-thuong").text


# -- the auditor --------------------------------------------------------------------------------


def test_the_auditor_sees_the_verification_and_downloads_the_exports(
    world: Service, visitors: dict[str, Visitor], engine: sa.Engine
) -> None:
    view = reported_ward(world)
    auditor = visitors["thanhtra.q12"]
    page = auditor.get("/kiem-tra").text
    entries = audit_count(engine)
    assert f"Toàn vẹn</span> {entries} bản ghi" in page
    answer = auditor.get(f"/kiem-tra/ho-so?so={view.id}")
    assert answer.url.path == f"/ho-so/{view.id}"
    assert "Dòng thời gian" in answer.text and "Báo cáo kết quả" in answer.text
    lines = auditor.get(f"/kiem-tra/xuat?dinh_dang=jsonl&ho_so={view.id}")
    assert lines.status_code == 200
    assert "nhat-ky-ho-so-" in lines.headers["content-disposition"]
    records = [json.loads(line) for line in lines.text.splitlines()]
    assert [r["trigger"] for r in records] == ["register", "implement", "report"]
    table = auditor.get("/kiem-tra/xuat?dinh_dang=csv")
    assert table.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(table.text.lstrip("\ufeff"))))) == entries
    book = auditor.get("/kiem-tra/xuat?dinh_dang=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None and sheet.max_row == entries + 1
    bad = auditor.get("/kiem-tra/xuat?dinh_dang=pdf")
    assert bad.status_code == 422 and "Dữ liệu chưa hợp lệ" in error_of(bad)
    officer = visitors["hung.thanhxuan"]
    refused = officer.get("/kiem-tra/xuat?dinh_dang=csv")
    assert refused.status_code == 403
    assert "Không được phép" in error_of(refused)


def test_the_auditor_sees_a_broken_chain(
    world: Service, visitors: dict[str, Visitor], engine: sa.Engine
) -> None:
    reported_ward(world)
    auditor = visitors["thanhtra.q12"]
    assert "Toàn vẹn" in auditor.get("/kiem-tra").text
    allow_tampering(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE audit_log SET reason = 'sửa lén' WHERE id = (SELECT max(id) FROM audit_log)"
        )
    page = auditor.get("/kiem-tra").text
    assert "Phát hiện sai lệch" in page


# -- dates ----------------------------------------------------------------------------------------


def test_dates_are_shown_dd_mm_yyyy_in_vietnam_time(
    world: Service, visitors: dict[str, Visitor], clock: FixedClock
) -> None:
    clock.set(vn(3, 5, 2022, 23, 45))  # 16:45 UTC
    view = register_ward(world)
    officer = visitors["hung.thanhxuan"]
    page = officer.get(f"/ho-so/{view.id}").text
    assert "03/05/2022 23:45" in page
    assert "2022-05-03" not in page and "16:45" not in page
    assert "03/05/2022 23:45" in row_of(officer.get("/ho-so").text, view.id)
    form = officer.get("/ho-so/dang-ky").text
    assert "đăng ký trước 05/05/2022 00:00" in form


def test_a_malformed_nomination_number_gets_a_vietnamese_page_not_json(
    visitors: dict[str, Visitor], engine: sa.Engine
) -> None:
    browser = visitors["thanhtra.q12"]
    for path in ("/ho-so/abc", "/ho-so/0", "/kiem-tra/ho-so?so=%2F%2Fevil.example"):
        answer = browser.get(path)
        assert answer.status_code == 422, path
        assert answer.headers["content-type"].startswith("text/html")
        assert error_of(answer).startswith("Dữ liệu chưa hợp lệ: nomination id")
    assert browser.get("/ho-so/424242").status_code == 404
    officer = visitors["hung.thanhxuan"]
    officer.get("/ho-so")
    count = audit_count(engine)
    assert officer.post("/ho-so/x1/trien-khai").status_code == 422
    assert audit_count(engine) == count


def test_a_wrong_address_gets_a_vietnamese_page_and_the_api_keeps_its_json(site: str) -> None:
    browser = Visitor(site)
    html = {"accept": "text/html,application/xhtml+xml"}
    answer = browser.client.get("/ho-so-khong-co", headers=html)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert (
        error_of(answer) == "Không tìm thấy trang này. Hãy kiểm tra lại địa chỉ, hoặc về trang chủ."
    )
    wrong_method = browser.client.get("/dang-xuat", headers=html)
    assert wrong_method.status_code == 405
    assert error_of(wrong_method).startswith("Trang này không nhận yêu cầu như vậy.")
    api = browser.client.get("/api/v1/khong-co", headers=html)
    assert api.status_code == 404
    assert api.json()["error"] == "not_found"
    assert browser.client.get("/ho-so-khong-co").json()["error"] == "not_found"  # no HTML asked
    browser.close()


def test_cookies_are_secure_when_the_settings_say_so(world: Service) -> None:
    world.set_password("hung.thanhxuan", PASSWORD)
    with serving(world, Settings(secure_cookies=True)) as base, httpx.Client(base_url=base) as raw:
        form = raw.get("/dang-nhap")
        assert "Secure" in form.headers["set-cookie"]
        token = form.cookies["thidua_csrf"]
        answer = raw.post(
            "/dang-nhap",
            data={"csrf": token, "username": "hung.thanhxuan", "password": PASSWORD},
            headers={"Cookie": f"thidua_csrf={token}"},
        )
        assert answer.status_code == 303
        session = next(
            value
            for value in answer.headers.get_list("set-cookie")
            if value.startswith("thidua_phien=")
        )
        assert "Secure" in session and "HttpOnly" in session and "SameSite=lax" in session


def test_the_inbox_and_the_dossiers_come_in_pages(
    world: Service, visitors: dict[str, Visitor], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dossiers, "PAGE", 2)
    views = [reported_ward(world, name=f"Tổ dân phố {n}") for n in (1, 2, 3)]
    for path, username in (("/hop-viec", "chutich.thanhxuan"), ("/ho-so", "hung.thanhxuan")):
        browser = visitors[username]
        first = browser.get(path).text
        assert [f"#{v.id}" in first for v in views] == [True, True, False]
        assert '<a href="?trang=2">Trang sau →</a>' in first
        second = browser.get(f"{path}?trang=2").text
        assert [f"#{v.id}" in second for v in views] == [False, False, True]
        assert '<a href="?trang=1">← Trang trước</a>' in second
        assert "Trang sau" not in second
