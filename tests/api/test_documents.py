"""Attachments over HTTP (docs/documents.md): files checked by their content, stored once by
SHA-256, read under the rule of the resource they belong to, confidential ones sealed at rest and
every download of them logged. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from exchange.documents.models import DocumentDownload
from tests.conftest import make_settings
from tests.helpers import assert_problem, create_listing, db_of, operator, register, verified

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
LIMIT = 100_000


@pytest.fixture
def documents_dir(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
def settings(backend, keys_dir, documents_dir):
    return make_settings(backend, keys_dir, documents_dir=documents_dir, document_max_bytes=LIMIT)


def stored_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


async def upload(client, party, path: str, name: str, content: bytes, kind: str = "other", confidential=False):
    return await client.post(
        f"/api/v1/{path}/documents",
        files={"file": (name, content, "application/octet-stream")},
        data={"kind": kind, "confidential": "true" if confidential else "false"},
        headers=party.headers,
    )


async def announce(client, listing_id: str, seller, ops) -> None:
    submitted = await client.post(f"/api/v1/listings/{listing_id}/submit", headers=seller.headers)
    assert submitted.status_code == 200, submitted.text
    approved = await client.post(
        f"/api/v1/listings/{listing_id}/review", json={"decision": "approve"}, headers=ops.headers
    )
    assert approved.status_code == 200, approved.text


async def test_a_seller_attaches_a_pdf_that_whoever_sees_the_listing_downloads(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    listing = await create_listing(client, seller)

    attached = await upload(client, seller, f"listings/{listing['id']}", "专利证书.pdf", PDF, "patent_certificate")
    assert attached.status_code == 201, attached.text
    document = attached.json()
    assert document["media_type"] == "application/pdf" and document["size"] == len(PDF)
    assert document["kind"] == "patent_certificate" and document["filename"] == "专利证书.pdf"

    # A draft's documents are the seller's; the public sees them once the listing is announced.
    assert (await client.get(f"/api/v1/documents/{document['id']}")).status_code == 404
    await announce(client, listing["id"], seller, ops)
    listed = await client.get(f"/api/v1/listings/{listing['id']}/documents")
    assert listed.status_code == 200, listed.text
    assert [d["id"] for d in listed.json()["items"]] == [document["id"]]
    assert listed.json()["may_upload"] is False

    content = await client.get(document["content_url"])
    assert content.status_code == 200, content.text
    assert content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert f"filename*=UTF-8''{quote('专利证书.pdf')}" in content.headers["content-disposition"]

    # Submitted, the listing's documents stay as they were reviewed.
    late = await upload(client, seller, f"listings/{listing['id']}", "b.pdf", PDF + b" ")
    assert_problem(late, 409, "invalid-state")
    assert_problem(
        await client.delete(f"/api/v1/documents/{document['id']}", headers=seller.headers), 409, "invalid-state"
    )


async def test_a_file_whose_content_is_not_what_its_name_says_is_refused(client, app, documents_dir):
    seller = await register(client, "university")
    org = f"orgs/{seller.org_id}"
    assert_problem(await upload(client, seller, org, "licence.pdf", PNG), 422, "document-type-mismatch", "file")
    refused = await upload(client, seller, org, "notes.pdf", b"just some text, not a document")
    assert_problem(refused, 422, "document-type-not-allowed", "file")
    assert stored_files(documents_dir) == []
    assert (await upload(client, seller, org, "licence.png", PNG, "business_licence")).status_code == 201


@pytest.mark.parametrize("size", [LIMIT + 1, 3 * LIMIT], ids=["just-over", "far-over"])
async def test_an_oversized_file_is_refused_before_anything_is_stored(client, app, documents_dir, size):
    seller = await register(client, "enterprise")
    too_big = PDF + b"0" * (size - len(PDF))
    refused = await upload(client, seller, f"orgs/{seller.org_id}", "big.pdf", too_big)
    assert_problem(refused, 413, "document-too-large", "file")
    assert stored_files(documents_dir) == []
    listed = await client.get(f"/api/v1/orgs/{seller.org_id}/documents", headers=seller.headers)
    assert listed.json()["items"] == []


async def test_a_stranger_gets_404_for_another_orgs_document(client, app):
    ops = await operator(client, app)
    owner = await register(client, "enterprise")
    stranger = await register(client, "enterprise")
    attached = await upload(client, owner, f"orgs/{owner.org_id}", "营业执照.pdf", PDF, "business_licence")
    assert attached.status_code == 201, attached.text
    document_id = attached.json()["id"]

    for path in (f"/api/v1/documents/{document_id}", f"/api/v1/documents/{document_id}/content"):
        assert_problem(await client.get(path, headers=stranger.headers), 404, "not-found")
        assert (await client.get(path, headers=owner.headers)).status_code == 200
        assert (await client.get(path, headers=ops.headers)).status_code == 200  # verification reads it
    assert_problem(
        await client.get(f"/api/v1/orgs/{owner.org_id}/documents", headers=stranger.headers), 404, "not-found"
    )
    assert_problem(await upload(client, stranger, f"orgs/{owner.org_id}", "x.pdf", PDF), 404, "not-found")
    removed = await client.delete(f"/api/v1/documents/{document_id}", headers=stranger.headers)
    assert_problem(removed, 404, "not-found")
    assert (await client.delete(f"/api/v1/documents/{document_id}", headers=owner.headers)).status_code == 204
    assert_problem(await client.get(f"/api/v1/documents/{document_id}", headers=owner.headers), 404, "not-found")


async def test_a_confidential_document_is_sealed_at_rest_and_read_under_the_nda_with_each_download_logged(
    client, app, documents_dir
):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    buyer = await verified(client, ops, "enterprise")
    listing = await create_listing(client, seller)
    secret = PDF + "配方：硫化物固态电解质 Li6PS5Cl 的烧结温度 550 ℃".encode()
    attached = await upload(client, seller, f"listings/{listing['id']}", "工艺.pdf", secret, "other", confidential=True)
    assert attached.status_code == 201, attached.text
    document = attached.json()
    assert document["confidential"] is True

    [stored] = stored_files(documents_dir)
    on_disk = stored.read_bytes()
    assert secret not in on_disk and b"%PDF" not in on_disk and "烧结".encode() not in on_disk

    await announce(client, listing["id"], seller, ops)
    assert_problem(await client.get(document["content_url"]), 403, "nda-required")
    assert_problem(await client.get(document["content_url"], headers=buyer.headers), 403, "nda-required")
    nda = await client.post(f"/api/v1/listings/{listing['id']}/nda", headers=buyer.headers)
    assert nda.status_code == 201, nda.text
    read = await client.get(document["content_url"], headers=buyer.headers)
    assert read.status_code == 200, read.text
    assert read.content == secret
    assert read.headers["cache-control"] == "private, no-store"
    assert (await client.get(document["content_url"], headers=seller.headers)).content == secret

    async with db_of(client).read() as session:
        logged = (await session.scalars(select(DocumentDownload).order_by(DocumentDownload.id))).all()
    assert [(str(d.user_id), d.basis) for d in logged] == [(buyer.user_id, "nda"), (seller.user_id, "seller")]


async def test_the_same_bytes_are_stored_once(client, app, documents_dir):
    first = await register(client, "enterprise")
    second = await register(client, "enterprise")
    a = await upload(client, first, f"orgs/{first.org_id}", "licence.pdf", PDF, "business_licence")
    b = await upload(client, second, f"orgs/{second.org_id}", "营业执照副本.pdf", PDF, "business_licence")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"] and a.json()["sha256"] == b.json()["sha256"]
    [stored] = stored_files(documents_dir)
    assert stored.name == a.json()["sha256"] and stored.read_bytes() == PDF
    assert stored.parent.name == stored.name[2:4] and stored.parent.parent.name == stored.name[:2]


def _office(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


async def test_evidence_of_an_objection_goes_to_the_objector_the_seller_and_operators(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    objector = await register(client, "enterprise")
    stranger = await register(client, "enterprise")
    listing = await create_listing(client, seller)
    await announce(client, listing["id"], seller, ops)
    shown = await client.get(f"/api/v1/listings/{listing['id']}")
    notice_id = shown.json()["announcement"]["notice_id"]
    filed = await client.post(
        f"/api/v1/notices/{notice_id}/objections",
        json={"reason": "该专利的发明人另有其人，请核实权属。"},
        headers=objector.headers,
    )
    assert filed.status_code == 201, filed.text
    path = f"objections/{filed.json()['id']}"
    attached = await upload(client, objector, path, "证据.docx", _office("word/document.xml"), "evidence")
    assert attached.status_code == 201, attached.text
    assert attached.json()["media_type"].endswith("wordprocessingml.document")
    assert_problem(await upload(client, seller, path, "反驳.pdf", PDF), 403, "forbidden")
    for party in (objector, seller, ops):
        listed = await client.get(f"/api/v1/{path}/documents", headers=party.headers)
        assert [d["id"] for d in listed.json()["items"]] == [attached.json()["id"]]
    assert_problem(await client.get(f"/api/v1/{path}/documents", headers=stranger.headers), 404, "not-found")


async def test_a_transfer_processs_papers_are_the_institutions_own(client, app):
    from tests.institution_helpers import disclose, university

    uni = await university(client, app)
    pid = (await disclose(client, uni.inventor))["id"]
    owner = f"transfer-processes/{pid}"
    path = f"/api/v1/{owner}/documents"
    attached = await upload(client, uni.evaluator, owner, "评估报告.pdf", PDF, kind="appraisal_report")
    assert attached.status_code == 201, attached.text
    minutes = await upload(client, uni.board, owner, "会议纪要.pdf", PDF, kind="meeting_minutes")
    assert minutes.status_code == 201, minutes.text
    listed = await client.get(path, headers=uni.office.headers)
    assert sorted(d["kind"] for d in listed.json()["items"]) == ["appraisal_report", "meeting_minutes"]
    assert (await client.get(path, headers=uni.ops.headers)).status_code == 200
    # Internal papers: another organisation does not learn the process exists; the public gets 401.
    stranger = await verified(client, uni.ops, "enterprise")
    assert_problem(await client.get(path, headers=stranger.headers), 404, "not-found")
    assert_problem(await upload(client, stranger, owner, "x.pdf", PDF), 404, "not-found")
    assert (await client.get(path)).status_code == 401
    # A stopped process takes no more papers.
    stopped = await client.post(
        f"/api/v1/transfer-processes/{pid}/stop", json={"reason": "发明人撤回披露"}, headers=uni.office.headers
    )
    assert stopped.status_code == 200
    late = await upload(client, uni.office, owner, "补充.pdf", PDF)
    assert late.status_code == 409, late.text
