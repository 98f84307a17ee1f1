"""Pure rules of attachments: what a file is (decided from its bytes, never from its name or the
client's content type), which names and kinds are allowed, and the refusals.

No I/O here beyond reading the bytes handed in (a zip's table of contents is read from memory).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from kernel.errors import DomainError


class OwnerKind(StrEnum):
    """What a document belongs to. A later module (institution records) adds its kind here and
    registers its access rule with the documents' context."""

    LISTING = "listing"
    OBJECTION = "objection"
    ORG = "org"
    SERVICE_ORDER = "service_order"
    TRANSFER_PROCESS = "transfer_process"  # an institution's transfer process: each step's papers


class DocumentKind(StrEnum):
    PATENT_CERTIFICATE = "patent_certificate"
    APPRAISAL_REPORT = "appraisal_report"
    LICENCE = "licence"
    EVIDENCE = "evidence"
    BUSINESS_LICENCE = "business_licence"
    DELIVERY_REPORT = "delivery_report"
    MEETING_MINUTES = "meeting_minutes"  # a decision's or an extra approval's minutes
    EXPERT_OPINION = "expert_opinion"  # the expert panel's signed opinions
    CONTRACT = "contract"  # a signed technology contract
    OTHER = "other"


@dataclass(frozen=True)
class FileType:
    name: str  # pdf, jpeg, png, ofd, docx, xlsx
    media_type: str
    extensions: tuple[str, ...]


PDF = FileType("pdf", "application/pdf", (".pdf",))
JPEG = FileType("jpeg", "image/jpeg", (".jpg", ".jpeg"))
PNG = FileType("png", "image/png", (".png",))
OFD = FileType("ofd", "application/ofd", (".ofd",))
DOCX = FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
XLSX = FileType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
FILE_TYPES = (PDF, JPEG, PNG, OFD, DOCX, XLSX)
BY_MEDIA_TYPE = {t.media_type: t for t in FILE_TYPES}
ALLOWED_EXTENSIONS = tuple(e for t in FILE_TYPES for e in t.extensions)

MAX_FILENAME_CHARS = 200


class DocumentTypeNotAllowed(DomainError):
    problem_type = "document-type-not-allowed"
    status = 422
    title = "The file is not of a type the exchange accepts (PDF, JPEG, PNG, OFD, DOCX, XLSX)"


class DocumentTypeMismatch(DomainError):
    problem_type = "document-type-mismatch"
    status = 422
    title = "The file's content is not what its name says"


class DocumentTooLarge(DomainError):
    problem_type = "document-too-large"
    status = 413
    title = "The file is larger than the exchange accepts"


class DocumentEmpty(DomainError):
    problem_type = "document-empty"
    status = 422
    title = "The file is empty"


def _zip_names(content: bytes) -> set[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return {name.lstrip("/") for name in archive.namelist()}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return None


def sniff(content: bytes) -> FileType | None:
    """The type of ``content`` by its magic bytes (and, for the zip-based formats, by the parts the
    archive holds); None for anything else."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"PK\x03\x04"):
        names = _zip_names(content)
        if names is None:
            return None
        if "OFD.xml" in names:  # GB/T 33190: the entry file at the package's root
            return OFD
        if "[Content_Types].xml" in names:  # Office Open XML
            if any(n.startswith("word/") for n in names):
                return DOCX
            if any(n.startswith("xl/") for n in names):
                return XLSX
    return None


def extension_of(filename: str) -> str:
    return PurePosixPath(filename.lower()).suffix


def sanitise_filename(filename: str) -> str:
    """A name safe to store and to send back in Content-Disposition: the last path part, no
    control characters or separators, at most ``MAX_FILENAME_CHARS`` characters (its extension kept)."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name).strip().strip(".")
    if len(name) > MAX_FILENAME_CHARS:
        suffix = extension_of(name)[:16]
        name = name[: MAX_FILENAME_CHARS - len(suffix)] + suffix
    return name


def check_file(filename: str, content: bytes, max_bytes: int) -> tuple[str, FileType]:
    """The sanitised name and the type of an upload, or the refusal naming the field ``file``."""
    if len(content) > max_bytes:
        raise DocumentTooLarge(
            f"the file has {len(content)} bytes; at most {max_bytes} are accepted", field="file", max_bytes=max_bytes
        )
    if not content:
        raise DocumentEmpty("the file is empty", field="file")
    name = sanitise_filename(filename)
    found = sniff(content)
    if found is None:
        raise DocumentTypeNotAllowed(
            "the file is not a PDF, JPEG, PNG, OFD, DOCX or XLSX document",
            field="file",
            allowed=list(ALLOWED_EXTENSIONS),
        )
    extension = extension_of(name)
    if extension not in found.extensions:
        raise DocumentTypeMismatch(
            f"the file's content is {found.name.upper()}, but its name ends in {extension or '(no extension)'}",
            field="file",
            detected=found.name,
        )
    return name, found
