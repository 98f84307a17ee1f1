"""The journey of a technology deal, every step in a real browser, against a real server on PostgreSQL.

A university lists a patent for auction in the steps of its workspace and attaches the patent
certificate (a too-large file refused in Chinese first); an operator approves it from the review
queue and records the buyers' bank transfers from the console; two enterprises, each in its own
browser, register intent on the listing page (an unverified one is refused in Chinese) and bid
against each other on the live auction page, each seeing the other's bid arrive (a too-low bid
refused in Chinese); the clock moves to the close; both parties sign from the deal's page and the
winner pays from it; both download the certificate PDF, whose text and QR code say what the signed
certificate says; the operator reconciles the bank statement with the ledger, and it comes out clean.

The parties register through the API (the account pages have tests of their own); every step of the
deal is taken in the browser. The server's clock is moved through its test control, never waited for.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from pypdf import PdfReader

from exchange.web.formats import beijing, yuan
from tests.api.test_documents import PDF
from tests.api.test_pdfs import _moment, _printer_missing, _texts
from tests.browser.conftest import Visit, _visit
from tests.calendar_helpers import FIXTURE_2027
from tests.e2e.conftest import OPERATOR_EMAIL, OPERATOR_PASSWORD, Api, ServerProcess, fresh_pg_database
from tests.helpers import PASSWORD, credit_code

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    # As the PDFs' own tests: without Pango (scripts/ensure-pdf installs it) skipped, unless CI is set.
    pytest.mark.skipif(bool(_printer_missing()) and not os.environ.get("CI"), reason=_printer_missing()),
]

MAX_BYTES = 4_096  # a small upload limit for this server, so that a too-large file stays small
ASKING = 50_000_000  # ¥500,000; the deposit is 10% and the increment 1% by default
FUNDS = {"buyer_a": 10_000_000, "buyer_b": 60_000_000}  # ¥100,000 and ¥600,000 by bank transfer
ANSWER_MS = 5_000  # how long a page may take to answer an action
LIVE_MS = 2_000  # how long a bid may take to reach another open page


@dataclass
class Party:
    email: str
    org_id: str
    name: str
    password: str = PASSWORD


@pytest.fixture(scope="module")
def journey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``techx serve`` on a fresh PostgreSQL database: migrated, an operator, the 2027 calendar test
    fixture (the announcement runs into 2027), small uploads, and PDF links to this server."""
    with fresh_pg_database("techx_journey") as url:
        workdir = tmp_path_factory.mktemp("journey")
        server = ServerProcess(
            url,
            workdir,
            TECHX_DOCUMENT_MAX_BYTES=str(MAX_BYTES),
            TECHX_DOCUMENTS_DIR=str(workdir / "documents"),
            # The clock jumps weeks between the steps; the pages' sessions are kept across them.
            TECHX_REFRESH_TOKEN_DAYS="365",
        )
        server.env["TECHX_PUBLIC_BASE_URL"] = server.base_url
        server.techx("db", "upgrade")
        server.techx("operator", "create", "--email", OPERATOR_EMAIL, "--password", OPERATOR_PASSWORD)
        loaded = server.techx("calendar", "import", str(FIXTURE_2027), check=False)
        assert loaded.returncode == 0 or "loaded already" in loaded.stderr, loaded.stderr
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def api(journey_server: ServerProcess) -> Iterator[Api]:
    client = Api(journey_server)
    yield client
    client.close()


def _browser_of(name: str):  # type: ignore[no-untyped-def]
    @pytest.fixture
    def one(browser: Any, journey_server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[Visit]:
        yield from _visit(browser, journey_server, request, viewport={"width": 1280, "height": 900})

    one.__name__ = name
    return one


# One browser context per person: their cookies, their pages.
seller_browser = _browser_of("seller_browser")
ops_browser = _browser_of("ops_browser")
a_browser = _browser_of("a_browser")
b_browser = _browser_of("b_browser")
outsider_browser = _browser_of("outsider_browser")


def sign_up(api: Api, kind: str, name: str) -> Party:
    email = f"{kind}-{uuid.uuid4().hex[:8]}@example.cn"
    body = {
        "email": email,
        "password": PASSWORD,
        "display_name": f"{name}管理员",
        "org": {"name": name, "credit_code": credit_code(), "kind": kind},
    }
    return Party(email, api.sign_up(body)["org"]["id"], name)


def ops_token(api: Api) -> str:
    return api.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)


def sign_in(visit: Visit, email: str, password: str = PASSWORD) -> None:
    visit.open("/login")
    visit.page.fill("#email", email)
    visit.page.fill("#password", password)
    visit.page.click("form[action='/login'] button[type=submit]")
    visit.page.wait_for_load_state()
    assert "/login" not in visit.page.url, visit.page.locator("main").inner_text()


def no_violations(visit: Visit) -> None:
    found = visit.axe_violations()
    assert found == [], (visit.page.url, found)


# -- the steps ------------------------------------------------------------------------------------


def list_with_the_certificate(seller: Visit) -> str:
    """The listing in the workspace's steps, for auction; the certificate attached to the draft (a
    too-large file refused in Chinese first); submitted. Its id."""
    page = seller.page
    seller.open("/workspace/listings/new")
    page.fill("#title", "高镍三元正极材料连续共沉淀制备技术")
    page.fill("#summary", "一种高镍三元正极前驱体的连续共沉淀制备方法，振实密度高、批次一致性好。")
    page.select_option("#field", "new_energy")
    page.fill("#keywords", "正极材料、共沉淀")
    page.select_option("#maturity", "6")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_load_state()
    page.select_option("#ip_assets-0-kind", "invention_patent")
    page.fill("#ip_assets-0-number", "ZL202110765432.1")
    page.fill("#ip_assets-0-title", "一种高镍三元正极材料前驱体的制备方法")
    page.fill("#ip_assets-0-expires_on", "2041-07-15")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_load_state()
    page.select_option("#deal-type", "transfer")
    page.select_option("#pricing-mode", "auction")
    page.fill("#pricing-asking_price", f"{ASKING // 100:,}")
    page.get_by_role("button", name="保存草稿并继续").click()
    page.wait_for_load_state()
    assert "草稿已保存" in page.locator("[role=status]").inner_text()
    page.fill("#inventors-0-name", "周明")
    page.get_by_role("button", name="保存并返回挂牌页").click()
    page.wait_for_load_state()
    listing_id = page.url.rstrip("/").split("/")[-1].split("?")[0]
    uuid.UUID(listing_id)

    # The listing's documents: a file over the limit is refused, in Chinese, before it is stored.
    upload = page.locator(f"#file-{listing_id}")
    upload.wait_for(timeout=ANSWER_MS)  # the panel loads itself
    no_violations(seller)
    too_large = PDF + b"%" + b"x" * (MAX_BYTES + 100) + b"\n"
    upload.set_input_files(files=[{"name": "专利证书扫描件.pdf", "mimeType": "application/pdf", "buffer": too_large}])
    page.select_option(f"#kind-{listing_id}", "patent_certificate")
    page.locator(f"#documents-{listing_id} button[type=submit]", has_text="上传").click()
    refusal = page.locator(f"#documents-answer-{listing_id} [data-problem='document-too-large']")
    refusal.wait_for(timeout=ANSWER_MS)
    assert "文件过大" in refusal.inner_text()
    assert page.locator(f"#documents-list-{listing_id} tr[data-document]").count() == 0

    upload.set_input_files(files=[{"name": "专利证书.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.select_option(f"#kind-{listing_id}", "patent_certificate")
    page.locator(f"#documents-{listing_id} button[type=submit]", has_text="上传").click()
    page.locator(f"#documents-answer-{listing_id} [role=status]").wait_for(timeout=ANSWER_MS)
    row = page.locator(f"#documents-list-{listing_id} tr[data-document]")
    assert row.count() == 1 and "专利证书.pdf" in row.inner_text() and "专利证书" in row.inner_text()
    no_violations(seller)
    # The IP step of the draft shows the same documents, below the step's form.
    seller.open(f"/workspace/listings/{listing_id}/edit?step=ip")
    page.locator(f"#documents-list-{listing_id} a", has_text="专利证书.pdf").wait_for(timeout=ANSWER_MS)
    no_violations(seller)

    seller.open(f"/workspace/listings/{listing_id}")
    page.get_by_role("button", name="提交审核").click()
    page.wait_for_load_state()
    assert "审核中" in page.locator(".badge").first.inner_text()
    return listing_id


def approve(ops: Visit, listing_id: str) -> None:
    """The operator opens the certificate from the review queue and approves the listing in place."""
    page = ops.page
    ops.open("/console/reviews")
    card = page.locator(f"li[data-listing-id='{listing_id}']")
    link = card.locator("a", has_text="专利证书.pdf")
    link.wait_for(timeout=ANSWER_MS)
    with page.expect_download() as downloaded:
        link.click()
    assert Path(downloaded.value.path()).read_bytes() == PDF
    no_violations(ops)
    card.get_by_role("button", name="审核通过").click()
    card.locator(f"#review-answer-{listing_id} .answer").wait_for(timeout=ANSWER_MS)
    assert "审核通过" in card.locator(f"#review-answer-{listing_id}").inner_text()


def record_bank_transfer(ops: Visit, buyer: Party, amount: int, reference: str) -> None:
    """The operator types the bank's record, finds the payer by its name and records it."""
    page = ops.page
    ops.open("/console/bank-transfers")
    page.fill("#amount", f"{amount // 100:,}")
    page.fill("#payer_name", buyer.name)
    page.fill("#payer_account", "6222 0212 3456 7890" if buyer.name.startswith("苏州") else "6217 0000 1111 2222")
    page.fill("#reference", reference)
    page.get_by_role("button", name="查找付款机构").click()
    page.wait_for_load_state()
    page.check(f"#org-{buyer.org_id}")
    no_violations(ops)
    page.get_by_role("button", name="确认登记入账").click()
    page.locator("#transfer-answer .answer").wait_for(timeout=ANSWER_MS)
    assert "银行到账已登记" in page.locator("#transfer-answer").inner_text()


def register_intent(buyer: Visit, listing_id: str, funds: int) -> None:
    """On the listing page: the deposit to be held, the wallet's balance and the listing's
    certificate, then the intent."""
    page = buyer.page
    buyer.open(f"/listings/{listing_id}")
    assert page.locator("[data-deposit]").inner_text() == "¥50,000.00"
    assert page.locator("[data-available]").inner_text() == yuan(funds)
    page.locator(f"#documents-{listing_id} a", has_text="专利证书.pdf").wait_for(timeout=ANSWER_MS)
    no_violations(buyer)
    page.get_by_role("button", name="登记受让意向").click()
    page.wait_for_load_state()
    assert "贵机构已登记受让意向" in page.locator("main").inner_text()
    assert "保证金 ¥50,000.00 已冻结" in page.locator("main").inner_text()


def an_unverified_org_is_refused(outsider: Visit, listing_id: str) -> None:
    """Not verified: the page offers no intent, and the intent posted anyway (a page kept open while
    the verification was withdrawn) is the API's refusal, in Chinese."""
    page = outsider.page
    outsider.open(f"/listings/{listing_id}")
    assert "方可登记受让意向" in page.locator(".next-step").inner_text()
    assert page.get_by_role("button", name="登记受让意向").count() == 0
    # The submission navigates after evaluate returns: wait for that navigation, not for the
    # current page's load state, which is already reached.
    with page.expect_navigation():
        page.evaluate(
            """(listingId) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = `/listings/${listingId}/intent`;
                form.appendChild(document.querySelector("input[name=_csrf_token]").cloneNode());
                document.body.appendChild(form);
                form.submit();
            }""",
            listing_id,
        )
    assert "您的机构尚未通过交易所审核，暂不能进行此操作。" in page.locator("main").inner_text()


def open_live(buyer: Visit, auction_id: str) -> None:
    buyer.open(f"/auctions/{auction_id}")
    buyer.page.wait_for_selector("#auction[data-live='yes']", timeout=ANSWER_MS)


def bid(buyer: Visit, amount: int) -> Any:
    """An amount typed in yuan, confirmed in the dialog; the answer shown in place."""
    page = buyer.page
    page.locator("#bid-answer").evaluate("el => { el.innerHTML = ''; }")
    page.fill("#bid-amount", f"{amount // 100:,}")
    page.click("#bid-form button[type=submit]")
    answer = page.locator("#bid-answer .answer")
    answer.wait_for(timeout=ANSWER_MS)
    return answer


def bid_against_each_other(a: Visit, b: Visit, auction_id: str) -> None:
    for buyer in (a, b):
        open_live(buyer, auction_id)
        buyer.page.on("dialog", lambda dialog: dialog.accept())
    assert a.page.locator("#auction-status").inner_text() == "竞价中"
    no_violations(a)

    accepted = bid(a, ASKING)
    assert accepted.get_attribute("data-answer") == "accepted"
    seen_by_b = b.page.locator("#bids tr[data-seq='1'] td >> nth=1")
    seen_by_b.wait_for(timeout=LIVE_MS)
    assert seen_by_b.inner_text().startswith("竞买人 ")
    assert b.page.locator("#high-amount").inner_text() == "¥500,000.00"

    too_low = bid(b, ASKING)  # the high bid again: below the next minimum
    assert too_low.get_attribute("role") == "alert"
    assert "出价须不低于 ¥505,000.00" in too_low.inner_text()

    higher = bid(b, ASKING + ASKING // 100)
    assert higher.get_attribute("data-answer") == "accepted"
    seen_by_a = a.page.locator("#bids tr[data-seq='2'] td >> nth=1")
    seen_by_a.wait_for(timeout=LIVE_MS)
    assert seen_by_a.inner_text().startswith("竞买人 ")
    assert a.page.locator("#high-amount").inner_text() == "¥505,000.00"
    assert b.page.locator("#bids tr[data-seq='2'] td >> nth=1").inner_text() == "您"
    no_violations(b)


def sign(visit: Visit, deal_id: str) -> None:
    page = visit.page
    visit.open(f"/workspace/deals/{deal_id}")
    no_violations(visit)
    page.get_by_role("button", name="签署", exact=True).click()
    page.locator("#deal-answer [data-answer=accepted]").wait_for(timeout=ANSWER_MS)


def pay(visit: Visit, deal_id: str) -> None:
    page = visit.page
    visit.open(f"/workspace/deals/{deal_id}")
    button = page.locator("#deal-panel form[action$='/pay'] button[type=submit]")
    assert button.inner_text().startswith("从钱包付款 ¥")
    no_violations(visit)
    button.click()
    page.locator("#deal-answer [data-answer=accepted]").wait_for(timeout=ANSWER_MS)
    page.locator("#deal-panel [data-deal-state='settled']").wait_for(timeout=ANSWER_MS)


def certificate_pdf(visit: Visit, deal_id: str) -> bytes:
    """The certificate PDF as the party's browser downloads it from the deal's page."""
    page = visit.page
    visit.open(f"/workspace/deals/{deal_id}")
    with page.expect_download() as downloaded:
        page.get_by_role("link", name="下载凭证 PDF").click()
    assert downloaded.value.suggested_filename.endswith(".pdf")
    return Path(downloaded.value.path()).read_bytes()


def assert_says_the_certificate(content: bytes, certificate: dict[str, Any], verify_url: str) -> None:
    """The PDF's text holds every fact of the signed certificate; its QR code is the public notice."""
    reader = PdfReader(io.BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    qr = [code.text for image in reader.pages[0].images for code in zxingcpp.read_barcodes(image.image)]
    assert qr == [verify_url]
    body = certificate["content"]
    facts = [
        "技术交易凭证",
        certificate["signature"],
        certificate["key_id"],
        yuan(body["price"]),
        yuan(body["fees"]["seller"]),
        yuan(body["fees"]["buyer"]),
        beijing(_moment(body["signatures"]["seller"]["signed_at"])),
        beijing(_moment(body["signatures"]["buyer"]["signed_at"])),
        *_texts(body),
    ]
    missing = [fact for fact in facts if str(fact) not in text]
    assert missing == [], (missing, text)


def reconcile(ops: Visit, day: str, statement: list[tuple[int, str]]) -> None:
    """The bank's statement of the day, pasted into the console: every line matches the ledger."""
    page = ops.page
    ops.open("/console/reconciliations")
    page.select_option("#provider", "bank_transfer")
    page.fill("#period_from", day)
    page.fill("#period_to", day)
    lines = "".join(f"{day},{amount // 100}.{amount % 100:02d},{reference}\n" for amount, reference in statement)
    page.fill("#statement", "date,amount,reference\n" + lines)
    page.get_by_role("button", name="开始对账").click()
    page.wait_for_load_state()
    clean = page.locator("#clean")
    assert clean.count() == 1, page.locator("main").inner_text()
    assert f"渠道记录 {len(statement)} 笔，与账本没有差异" in clean.inner_text()
    no_violations(ops)


# -- the journey ----------------------------------------------------------------------------------


def test_a_deal_from_listing_to_reconciliation_in_the_browser(
    api: Api,
    journey_server: ServerProcess,
    seller_browser: Visit,
    ops_browser: Visit,
    a_browser: Visit,
    b_browser: Visit,
    outsider_browser: Visit,
) -> None:
    ops = ops_token(api)
    university = sign_up(api, "university", "华东理工大学技术转移中心")
    buyer_a = sign_up(api, "enterprise", "苏州智造装备有限公司")
    buyer_b = sign_up(api, "enterprise", "杭州云芯半导体有限公司")
    outsider = sign_up(api, "enterprise", "宁波未认证科技有限公司")
    for party in (university, buyer_a, buyer_b):
        api.ok("POST", f"/orgs/{party.org_id}/verify", ops, json={"note": "营业执照已核验"})

    sign_in(seller_browser, university.email)
    listing_id = list_with_the_certificate(seller_browser)

    sign_in(ops_browser, OPERATOR_EMAIL, OPERATOR_PASSWORD)
    approve(ops_browser, listing_id)
    bank_day = (api.now(ops) + timedelta(hours=8)).date().isoformat()
    statement = [(FUNDS["buyer_a"], "CMB" + uuid.uuid4().hex[:10].upper())]
    statement.append((FUNDS["buyer_b"], "ICBC" + uuid.uuid4().hex[:10].upper()))
    record_bank_transfer(ops_browser, buyer_a, *statement[0])
    record_bank_transfer(ops_browser, buyer_b, *statement[1])

    sign_in(outsider_browser, outsider.email)
    an_unverified_org_is_refused(outsider_browser, listing_id)
    sign_in(a_browser, buyer_a.email)
    register_intent(a_browser, listing_id, FUNDS["buyer_a"])
    sign_in(b_browser, buyer_b.email)
    register_intent(b_browser, listing_id, FUNDS["buyer_b"])

    # The announcement's twenty working days pass; the auction opens at its set time.
    listing = api.ok("GET", f"/listings/{listing_id}", ops)
    api.advance_past(ops, listing["announcement"]["closes_at"])
    ops = ops_token(api)
    api.advance_past(ops, api.ok("GET", f"/listings/{listing_id}", ops)["announcement"]["auction_opens_at"])
    ops = ops_token(api)
    auction = api.ok("GET", f"/listings/{listing_id}/auction", api.login(buyer_a.email, PASSWORD))
    assert auction["status"] == "open"
    bid_against_each_other(a_browser, b_browser, auction["id"])

    # The close: both pages show the result without a reload; B's deal then waits out its notice.
    api.advance_past(ops, auction["ends_at"])
    for buyer in (a_browser, b_browser):
        buyer.page.locator("#result .answer").wait_for(timeout=ANSWER_MS)
        assert "成交价 ¥505,000.00" in buyer.page.locator("#result").inner_text()
    ops = ops_token(api)
    b_token = api.login(buyer_b.email, PASSWORD)
    deal_id = api.ok("GET", f"/listings/{listing_id}/auction", b_token)["deal_id"]
    deal = api.ok("GET", f"/deals/{deal_id}", b_token)
    assert (deal["buyer_org_id"], deal["price"]) == (buyer_b.org_id, ASKING + ASKING // 100)
    api.advance_past(ops, api.ok("GET", f"/notices/{deal['notice_id']}")["closes_at"])

    sign(seller_browser, deal_id)
    sign(b_browser, deal_id)
    pay(b_browser, deal_id)

    b_token = api.login(buyer_b.email, PASSWORD)
    certificate = api.ok("GET", f"/deals/{deal_id}/certificate", b_token)
    verify_url = f"{journey_server.base_url}/notices/{deal['notice_id']}"
    for party in (seller_browser, b_browser):
        assert_says_the_certificate(certificate_pdf(party, deal_id), certificate, verify_url)
    # The QR code's target is the public result notice, naming the buyer and the price.
    outsider_browser.open(f"/notices/{deal['notice_id']}")
    shown = outsider_browser.page.locator("main").inner_text()
    assert buyer_b.name in shown and "505,000" in shown

    reconcile(ops_browser, bank_day, statement)
