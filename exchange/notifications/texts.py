"""The words of notifications: a Jinja2 text template per kind and language
(``templates/{zh,en}/<kind>.txt``: the subject on the first line, the body after a blank line),
amounts in yuan and times in Beijing time. ``TECHX_NOTIFICATION_TEMPLATES_DIR`` names a folder of
the same layout whose files replace the built-in ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, TemplateNotFound, Undefined

from exchange.notifications.domain import DEFAULT_LANGUAGE, Language, info, link_path
from exchange.web.formats import beijing, chinese_date, yuan
from listings.workdays import BEIJING

TEMPLATES_DIR = Path(__file__).parent / "templates"
FALLBACK = "_default.txt"


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else None
    return None


def _yuan(value: Any) -> str:
    return yuan(value) if isinstance(value, int) and not isinstance(value, bool) else "—"


def _beijing(value: Any) -> str:
    moment = _moment(value)
    return beijing(moment) if moment else (str(value) if value and not isinstance(value, Undefined) else "—")


def _beijing_en(value: Any) -> str:
    """``28 Jan 2027, 16:00 Beijing time``."""
    moment = _moment(value)
    if moment is None:
        return str(value) if value and not isinstance(value, Undefined) else "—"
    local = moment.astimezone(BEIJING)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        day = local - timedelta(days=1)  # periods run "to 24:00" of their last day, as in Chinese
        return f"{day.day} {day:%b %Y}, 24:00 Beijing time"
    return f"{local.day} {local:%b %Y, %H:%M} Beijing time"


def _date(value: Any) -> str:
    moment = _moment(value)
    if moment is not None:
        return chinese_date(moment)
    return str(value) if value and not isinstance(value, Undefined) else "—"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    link: str  # absolute; empty when the notification is about nothing one can open


class Texts:
    """Renders a kind's subject and body in a language, from the outbox row's data."""

    def __init__(self, base_url: str, override_dir: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        loaders = [FileSystemLoader(str(TEMPLATES_DIR))]
        if override_dir:
            loaders.insert(0, FileSystemLoader(override_dir))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=False,  # plain text: mail bodies and the inbox's text
            undefined=ChainableUndefined,  # a field an event does not carry prints as nothing
            keep_trailing_newline=False,  # and no trim_blocks: "{% if x %}\nline" keeps its line break
        )
        self.env.filters.update({"yuan": _yuan, "beijing": _beijing, "beijing_en": _beijing_en, "date": _date})

    def link(self, kind: str, subject_type: str, subject_id: str, data: dict[str, Any]) -> str:
        entry = info(kind)
        if entry.token_path:
            token = data.get("token")
            if isinstance(token, str) and token:
                return f"{self.base_url}{entry.token_path}?token={quote(token, safe='')}"
        given = data.get("link")
        if isinstance(given, str) and given:
            return given if given.startswith(("http://", "https://")) else f"{self.base_url}/{given.lstrip('/')}"
        path = link_path(subject_type, subject_id)
        return f"{self.base_url}{path}" if path else ""

    def render(
        self, kind: str, language: str, data: dict[str, Any], subject_type: str = "", subject_id: str = ""
    ) -> Rendered:
        lang = language if language in {lang.value for lang in Language} else DEFAULT_LANGUAGE.value
        link = self.link(kind, subject_type, subject_id, data)
        context = {**data, "kind": kind, "link": link, "base_url": self.base_url, "subject_id": subject_id}
        try:
            template = self.env.get_template(f"{lang}/{kind}.txt")
        except TemplateNotFound:
            template = self.env.get_template(f"{lang}/{FALLBACK}")
        text = template.render(context).strip("\n")
        subject, _, body = text.partition("\n")
        return Rendered(subject.strip(), body.strip("\n"), link)

    def footer(self, language: str, *, mandatory: bool) -> str:
        lang = language if language in {lang.value for lang in Language} else DEFAULT_LANGUAGE.value
        return self.env.get_template(f"{lang}/_footer.txt").render(mandatory=mandatory, base_url=self.base_url).strip()

    def has_template(self, language: str, kind: str) -> bool:
        try:
            self.env.get_template(f"{language}/{kind}.txt")
        except TemplateNotFound:
            return False
        return True
