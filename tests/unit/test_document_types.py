"""What a file is, decided from its bytes (exchange/documents/domain.py)."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.documents.domain import (
    DOCX,
    JPEG,
    OFD,
    PDF,
    PNG,
    XLSX,
    DocumentTooLarge,
    DocumentTypeMismatch,
    DocumentTypeNotAllowed,
    check_file,
    sanitise_filename,
    sniff,
)


def archive(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name in names:  # a fixed date: the same bytes (and test ids) on every collection
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.4\n%%EOF", PDF),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", PNG),
        (archive("OFD.xml", "Doc_0/Document.xml"), OFD),
        (archive("[Content_Types].xml", "word/document.xml"), DOCX),
        (archive("[Content_Types].xml", "xl/workbook.xml"), XLSX),
    ],
    ids=["pdf", "jpeg", "png", "ofd", "docx", "xlsx"],
)
def test_each_allowed_type_is_known_by_its_content(content, expected):
    assert sniff(content) is expected


@pytest.mark.parametrize(
    "content",
    [
        b"hello",
        b"GIF89a....",
        b"PK\x03\x04 not really a zip",
        archive("readme.txt"),  # a zip, but none of the allowed packages
        archive("word/document.xml"),  # Office parts without the package's content types
        b"<html><script>alert(1)</script>",
    ],
)
def test_anything_else_is_not_a_known_type(content):
    assert sniff(content) is None


def test_the_name_must_agree_with_the_content():
    assert check_file("a.PDF", b"%PDF-1.7", 100)[1] is PDF
    assert check_file("photo.jpeg", b"\xff\xd8\xff\xdb", 100)[1] is JPEG
    with pytest.raises(DocumentTypeMismatch) as mismatch:
        check_file("certificate.pdf", b"\x89PNG\r\n\x1a\n", 100)
    assert mismatch.value.errors == [{"field": "file", "message": mismatch.value.detail}]
    assert mismatch.value.extra["detected"] == "png"
    with pytest.raises(DocumentTypeMismatch):
        check_file("no-extension", b"%PDF-1.7", 100)
    with pytest.raises(DocumentTypeNotAllowed):
        check_file("script.pdf", b"#!/bin/sh", 100)


def test_the_size_is_checked_first():
    with pytest.raises(DocumentTooLarge) as refused:
        check_file("a.txt", b"x" * 101, 100)
    assert refused.value.status == 413 and refused.value.extra["max_bytes"] == 100


@pytest.mark.parametrize(
    ("given_name", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\王\\专利证书.pdf", "专利证书.pdf"),
        ('a"b\r\nc.pdf', "a_bc.pdf"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_names_are_sanitised(given_name, kept):
    assert sanitise_filename(given_name) == kept


@given(st.text(max_size=400))
def test_a_sanitised_name_is_short_and_has_no_separators_or_controls(name):
    clean = sanitise_filename(name)
    assert len(clean) <= 200
    assert "/" not in clean and "\\" not in clean and '"' not in clean
    assert all(ord(c) >= 32 and c != "\x7f" for c in clean)
