"""Refusals and failures of the pages, in Chinese: an error page, or — for an htmx action such as a
bid — the message in place of the form's answer. The status stays the API's (404, 403, 409, …);
the words come from ``messages``; what is refused is decided by the same problem mapping as the API.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Template

from exchange.platform.problems import problem_for
from exchange.web.messages import MESSAGES, has_action_message, message_for, title_for
from kernel.page_actions import is_htmx

CSRF_FAILED = "CSRF token verification failed"  # the detail of litestar's CSRF middleware


def page_problem(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    problem = problem_for(request, exc)
    problem_type = str(problem.type_ or "")
    if isinstance(exc, PermissionDeniedException) and exc.detail == CSRF_FAILED:
        problem_type = "csrf"
    status = problem.status_code
    extra = problem.extra if isinstance(problem.extra, dict) else {}
    action = request.state.get("action")  # set by a page whose refusals have words of their own
    context = {
        "status": status,
        "title": title_for(status),
        "message": message_for(problem_type, status, extra, action),
        "problem_type": problem_type,
        # A refusal with a sentence of its own (or of the page's action) says it all: the API's
        # English detail of its field (a bid's minimum in fen) would only repeat it in the wrong
        # language and unit.
        "errors": []
        if has_action_message(problem_type, action) or (problem_type in MESSAGES and problem_type != "validation-error")
        else extra.get("errors") or [],
    }
    fragment = is_htmx(request)
    template = "errors/message.html" if fragment else "errors/page.html"
    headers = dict(problem.headers or {})
    headers["Cache-Control"] = "no-store"
    return Template(template_name=template, context=context, status_code=status, headers=headers)


PAGE_EXCEPTION_HANDLERS = {Exception: page_problem, HTTPException: page_problem}
