"""Pure rules of the achievement registry (科技成果登记): the registration number in the national
pattern, the fields of the national registration form and their checks, the states of a
registration, the rows of a bulk import and the signed batches of the synchronisation feed.

No database and no framework here; ``service.py``, ``imports.py`` and ``feed.py`` apply these rules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from kernel.errors import DomainError, InvalidState
from listings.domain import Field

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_KEYWORDS = 3
MAX_PROJECT_NUMBERS = 10
FEED_SCHEMA = "techx.registry.feed/1"  # the version of the feed's lines and header (docs/registry.md)


class RegistryRuleBroken(DomainError):
    problem_type = "registry-rule-broken"
    status = 422
    title = "The request breaks a rule of achievement registration"


# ----------------------------------------------------------------------------------------------
# The registration number (登记号)


class Category(StrEnum):
    """The category flag of the registration number: the national form's 成果类别."""

    BASIC = "J"  # 基础理论成果
    APPLIED = "Y"  # 应用技术成果
    SOFT = "R"  # 软科学成果


CATEGORY_WORDS = {"J": "基础理论", "Y": "应用技术", "R": "软科学"}

# The canonical rendering: the four groups written together, 12 characters, e.g. ``3102026Y0042``.
# ``parse_number`` also reads the groups separated by single spaces or hyphens (``310 2026 Y 0042``).
NUMBER = re.compile(r"^(?P<code>\d{3})[ -]?(?P<year>\d{4})[ -]?(?P<flag>[JYR])[ -]?(?P<serial>\d{4})$")
REGION_CODE = re.compile(r"^\d{3}$")
MAX_SERIAL = 9999


@dataclass(frozen=True, order=True)
class RegistrationNumber:
    code: str  # 3 digits: the registering region's or department's code
    year: int  # the year of registration (Beijing time)
    flag: Category
    serial: int  # 1..9999 within (code, year, flag)

    def __post_init__(self) -> None:
        if not REGION_CODE.match(self.code):
            raise ValueError(f"a region or department code is 3 digits, not {self.code!r}")
        if not 1000 <= self.year <= 9999:
            raise ValueError(f"a registration year has 4 digits, not {self.year}")
        if not 1 <= self.serial <= MAX_SERIAL:
            raise ValueError(f"a serial is 1 to {MAX_SERIAL}, not {self.serial}")

    def __str__(self) -> str:
        return f"{self.code}{self.year:04d}{self.flag.value}{self.serial:04d}"

    @property
    def spaced(self) -> str:
        return f"{self.code} {self.year:04d} {self.flag.value} {self.serial:04d}"


def parse_number(text: str) -> RegistrationNumber:
    """The number written canonically or with its groups separated; 422 naming ``number`` otherwise."""
    match = NUMBER.match(text.strip().upper())
    if match is None or int(match["serial"]) == 0 or int(match["year"]) < 1000:
        raise RegistryRuleBroken(
            "a registration number is a 3-digit code, a 4-digit year, a category flag J, Y or R and a 4-digit "
            "serial from 0001, e.g. 3102026Y0042",
            field="number",
        )
    return RegistrationNumber(match["code"], int(match["year"]), Category(match["flag"]), int(match["serial"]))


def serial_counter(code: str, year: int, flag: Category) -> str:
    """The name of the counter that hands out the serials of one (code, year, flag)."""
    return f"registry_serial:{code}:{year:04d}:{flag.value}"


def number_of(code: str, registered_at: datetime, flag: Category, serial: int) -> RegistrationNumber:
    if serial > MAX_SERIAL:
        raise RegistryRuleBroken(
            f"the serials of {code}/{registered_at.astimezone(BEIJING).year}/{flag.value} are used up", field="category"
        )
    return RegistrationNumber(code, registered_at.astimezone(BEIJING).year, flag, serial)


# ----------------------------------------------------------------------------------------------
# The form's choices


class Level(StrEnum):
    """成果水平, as an evaluation (鉴定/评价) stated it."""

    INTERNATIONAL_LEADING = "international_leading"  # 国际领先
    INTERNATIONAL_ADVANCED = "international_advanced"  # 国际先进
    DOMESTIC_LEADING = "domestic_leading"  # 国内领先
    DOMESTIC_ADVANCED = "domestic_advanced"  # 国内先进
    OTHER = "other"  # 其他 / 未评价


LEVEL_WORDS = {
    "international_leading": "国际领先",
    "international_advanced": "国际先进",
    "domestic_leading": "国内领先",
    "domestic_advanced": "国内先进",
    "other": "其他",
}


class Stage(StrEnum):
    """成果所处阶段."""

    EARLY = "early"  # 初期
    MIDDLE = "middle"  # 中期
    MATURE = "mature"  # 成熟


STAGE_WORDS = {"early": "初期", "middle": "中期", "mature": "成熟"}


def stage_of_maturity(maturity: int) -> Stage:
    """A listing's or disclosure's technology readiness (1–9) as the form's stage: 1–3 early
    (principle, concept, laboratory proof), 4–6 middle (prototypes), 7–9 mature (pilot to production)."""
    if maturity <= 3:
        return Stage.EARLY
    return Stage.MIDDLE if maturity <= 6 else Stage.MATURE


class Origin(StrEnum):
    LISTING = "listing"  # prefilled from a listing of the exchange
    DISCLOSURE = "disclosure"  # prefilled from an institution's disclosure
    OWN = "own"  # entered on its own
    IMPORT = "import"  # a row of a bulk import from another platform or institution


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # awaiting an operator's check
    RETURNED = "returned"  # by an operator, with a reason: edit and submit again
    REGISTERED = "registered"  # numbered and published in the library
    WITHDRAWN = "withdrawn"  # deleted from the library, with a reason (an event of the feed)


class Action(StrEnum):
    SUBMIT = "submit"
    REGISTER = "register"
    RETURN = "return"
    CORRECT = "correct"
    WITHDRAW = "withdraw"


TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.SUBMIT): Status.SUBMITTED,
    (Status.RETURNED, Action.SUBMIT): Status.SUBMITTED,
    (Status.SUBMITTED, Action.REGISTER): Status.REGISTERED,
    (Status.SUBMITTED, Action.RETURN): Status.RETURNED,
    (Status.REGISTERED, Action.CORRECT): Status.REGISTERED,
    (Status.REGISTERED, Action.WITHDRAW): Status.WITHDRAWN,
}
EDITABLE = (Status.DRAFT, Status.RETURNED)


def next_status(status: Status, action: Action) -> Status:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidState(f"a {status} achievement cannot be {action}ed", state=status.value) from None


class EventKind(StrEnum):
    """What the synchronisation feed carries."""

    REGISTERED = "registered"
    CORRECTED = "corrected"
    WITHDRAWN = "withdrawn"


# ----------------------------------------------------------------------------------------------
# The form's fields and their checks

# The fields of an achievement's form, as stored and as the feed carries them (docs/registry.md).
FORM_FIELDS = (
    "title", "summary", "category", "keywords", "level", "stage", "field", "funding_source", "project_numbers",
    "contact_name", "contact_phone", "contact_email", "org_name",
)  # fmt: skip
REQUIRED_TO_SUBMIT = (
    "title", "summary", "category", "keywords", "level", "stage", "field", "contact_name", "contact_phone",
    "org_name",
)  # fmt: skip
PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,22}[0-9]$")
# Control characters and spaces spelled out (not \s, whose meaning differs between Python and JSON Schema).
EMAIL = re.compile(r"^[^@\x00-\x20]+@[^@\x00-\x20]+\.[^@\x00-\x20]+$")
LIMITS = {"title": 200, "summary": 4000, "funding_source": 200, "contact_name": 50, "org_name": 200}


def clean_keywords(words: Sequence[str]) -> list[str]:
    """Up to three distinct keywords of 1–20 characters, trimmed; 422 naming ``keywords`` otherwise."""
    cleaned: list[str] = []
    for word in words:
        word = word.strip()
        if not word:
            continue
        if len(word) > 20:
            raise RegistryRuleBroken(f"a keyword has at most 20 characters: {word!r}", field="keywords")
        if word not in cleaned:
            cleaned.append(word)
    if len(cleaned) > MAX_KEYWORDS:
        raise RegistryRuleBroken(f"the registry takes at most {MAX_KEYWORDS} keywords", field="keywords")
    return cleaned


def clean_project_numbers(numbers: Sequence[str]) -> list[str]:
    cleaned = []
    for number in numbers:
        number = number.strip()
        if number and number not in cleaned:
            if len(number) > 64:
                raise RegistryRuleBroken("a project number has at most 64 characters", field="project_numbers")
            cleaned.append(number)
    if len(cleaned) > MAX_PROJECT_NUMBERS:
        raise RegistryRuleBroken(f"at most {MAX_PROJECT_NUMBERS} project numbers", field="project_numbers")
    return cleaned


def check_form(values: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
    """The form's values as stored: text trimmed, choices checked, keywords and project numbers cleaned.
    ``complete``: every field the national form requires is filled (to submit, to register by import).
    A refusal names the field."""
    out: dict[str, Any] = {}
    for name in ("title", "summary", "funding_source", "contact_name", "org_name", "contact_phone", "contact_email"):
        # A phone or an address loses its spaces only: what the API's schema says it accepts (schemas.py).
        text = str(values.get(name) or "").strip(" " if name in ("contact_phone", "contact_email") else None)
        if len(text) > LIMITS.get(name, 200):
            raise RegistryRuleBroken(f"{name} has at most {LIMITS.get(name, 200)} characters", field=name)
        out[name] = text
    for name, choices in (("category", Category), ("level", Level), ("stage", Stage), ("field", Field)):
        value = str(values.get(name) or "").strip()
        if value and value not in choices._value2member_map_:
            allowed = ", ".join(c.value for c in choices)
            raise RegistryRuleBroken(f"{name} is one of {allowed}", field=name)
        out[name] = value
    out["keywords"] = clean_keywords(values.get("keywords") or [])
    out["project_numbers"] = clean_project_numbers(values.get("project_numbers") or [])
    if out["contact_phone"] and not PHONE.match(out["contact_phone"]):
        raise RegistryRuleBroken("a contact phone is 7 to 24 digits, spaces or hyphens", field="contact_phone")
    if out["contact_email"] and not EMAIL.match(out["contact_email"]):
        raise RegistryRuleBroken("a contact email is an address like name@example.cn", field="contact_email")
    if complete:
        for name in REQUIRED_TO_SUBMIT:
            if not out[name]:
                raise RegistryRuleBroken(f"the national form requires {name}", field=name)
    return out


# ----------------------------------------------------------------------------------------------
# Bulk import: the columns, Chinese or English

# Header (as typed in the file, case and spaces ignored) → field. docs/registry.md lists them.
HEADERS: dict[str, str] = {}
for _field, _names in {
    "source_id": ("source_id", "来源编号", "原始编号"),
    "title": ("title", "成果名称"),
    "summary": ("summary", "成果简介"),
    "category": ("category", "成果类别"),
    "keywords": ("keywords", "关键词"),
    "level": ("level", "成果水平"),
    "stage": ("stage", "成果阶段", "所处阶段"),
    "field": ("field", "所属领域", "技术领域"),
    "funding_source": ("funding_source", "经费来源", "资金来源"),
    "project_numbers": ("project_numbers", "项目编号", "课题编号"),
    "contact_name": ("contact_name", "联系人"),
    "contact_phone": ("contact_phone", "联系电话"),
    "contact_email": ("contact_email", "电子邮箱", "联系邮箱"),
    "org_name": ("org_name", "完成单位", "登记单位"),
}.items():
    for _name in _names:
        HEADERS[_name.lower()] = _field
IMPORT_REQUIRED = ("source_id", *REQUIRED_TO_SUBMIT)

# A cell may name a choice by its value, its Chinese word or (categories) its flag.
CHOICE_WORDS: dict[str, dict[str, str]] = {
    "category": {**{c.value: c.value for c in Category}, **{w: f for f, w in CATEGORY_WORDS.items()},
                 "basic": "J", "applied": "Y", "soft": "R"},
    "level": {**{v: v for v in LEVEL_WORDS}, **{w: v for v, w in LEVEL_WORDS.items()}},
    "stage": {**{v: v for v in STAGE_WORDS}, **{w: v for v, w in STAGE_WORDS.items()}},
    "field": {**{f.value: f.value for f in Field},
              **{"电子信息": "electronic_information", "生物医药": "biomedicine", "先进制造": "advanced_manufacturing",
                 "新材料": "new_materials", "新能源": "new_energy", "节能环保": "energy_saving_environment",
                 "现代农业": "agriculture", "其他": "other"}},
}  # fmt: skip
LIST_SEPARATORS = re.compile(r"[;；,，、]")


def header_fields(header: Sequence[str]) -> list[str | None]:
    """The field of each column (None: a column the import ignores); refused when a required one is missing."""
    fields = [HEADERS.get(str(name or "").strip().lower()) for name in header]
    missing = [name for name in IMPORT_REQUIRED if name not in fields]
    if missing:
        raise RegistryRuleBroken(f"the header lacks the columns {', '.join(missing)}", field="file")
    return fields


@dataclass(frozen=True)
class ImportRow:
    line: int
    source_id: str
    form: dict[str, Any]


@dataclass(frozen=True)
class BadRow:
    line: int
    field: str
    reason: str


def read_row(line: int, fields: Sequence[str | None], cells: Sequence[Any]) -> ImportRow | BadRow:
    """One data row as an achievement's form, or why it is refused (the first fault)."""
    raw: dict[str, str] = {}
    for name, cell in zip(fields, cells, strict=False):
        if name is not None:
            raw[name] = "" if cell is None else str(cell).strip()
    values: dict[str, Any] = dict(raw)
    for name, words in CHOICE_WORDS.items():
        given = raw.get(name, "")
        values[name] = words.get(given, words.get(given.lower(), given)) if given else ""
    values["keywords"] = [w for w in LIST_SEPARATORS.split(raw.get("keywords", "")) if w.strip()]
    values["project_numbers"] = [w for w in LIST_SEPARATORS.split(raw.get("project_numbers", "")) if w.strip()]
    source_id = raw.get("source_id", "")
    if not source_id or len(source_id) > 100:
        return BadRow(line, "source_id", "a source id of 1 to 100 characters is required")
    try:
        form = check_form(values, complete=True)
    except RegistryRuleBroken as refusal:
        return BadRow(line, str((refusal.errors or [{}])[0].get("field", "")), refusal.detail)
    return ImportRow(line, source_id, form)


def check_rows(rows: Sequence[ImportRow | BadRow]) -> list[BadRow]:
    """Every bad row, and every row repeating a source id an earlier row of the file used."""
    bad = [r for r in rows if isinstance(r, BadRow)]
    seen: dict[str, int] = {}
    for row in rows:
        if isinstance(row, ImportRow):
            if row.source_id in seen:
                bad.append(
                    BadRow(row.line, "source_id", f"source id {row.source_id} repeats line {seen[row.source_id]}")
                )
            else:
                seen[row.source_id] = row.line
    return sorted(bad, key=lambda b: b.line)


# ----------------------------------------------------------------------------------------------
# The synchronisation feed: lines and their signed header


def feed_line(canonical: bytes) -> bytes:
    """One event as a line of the feed: its canonical JSON (RFC 8785) and a line feed."""
    return canonical + b"\n"


def batch_header(lines: Sequence[bytes], *, since: int, last: int, key_id: str, issued_at: str) -> dict[str, Any]:
    """The header of a batch before its signature: the schema, the cursor range (exclusive
    ``since``, inclusive ``last``), the count and the SHA-256 of the lines as written."""
    return {
        "schema": FEED_SCHEMA,
        "since": since,
        "last": last,
        "count": len(lines),
        "sha256": hashlib.sha256(b"".join(lines)).hexdigest(),
        "key_id": key_id,
        "issued_at": issued_at,
    }
