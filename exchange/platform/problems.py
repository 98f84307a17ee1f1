"""One mapping from every error to RFC 9457 problem details (``application/problem+json``).

Domain errors of any module carry ``problem_type``, ``status`` and ``title``; framework errors
get a slug from their status; anything else is logged and answered as a bare 500 without detail.
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin

from kernel.errors import msgspec_field

log = structlog.get_logger("techx.errors")

HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "request-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


def _validation_errors(exc: ValidationException) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        key = item.get("key")
        field = msgspec_field(message) or (key if key and key != "body" else None)
        source = item.get("source")
        if field is None and source in ("query", "path", "header", "cookie"):
            field = key
        errors.append({"field": field or "body", "message": message, "source": source})
    if not errors:
        errors.append({"field": msgspec_field(exc.detail) or "body", "message": exc.detail})
    return errors


def domain_problem(exc: Exception) -> ProblemDetailsException:
    extra: dict[str, Any] = dict(getattr(exc, "extra", None) or {})
    errors = getattr(exc, "errors", None)
    if errors:
        extra["errors"] = errors
    return ProblemDetailsException(
        type_=exc.problem_type,  # type: ignore[attr-defined]
        title=exc.title,  # type: ignore[attr-defined]
        status_code=exc.status,  # type: ignore[attr-defined]
        detail=getattr(exc, "detail", None) or str(exc),
        extra=extra or None,
        headers=getattr(exc, "headers", None),
    )


def http_problem(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    slug = HTTP_SLUGS.get(status, "http-error")
    extra: dict[str, Any] | None = None
    detail = exc.detail
    if isinstance(exc, ValidationException):
        slug = "validation-error"
        extra = {"errors": _validation_errors(exc)}
        detail = detail or "The request is not valid"
    elif isinstance(exc.extra, dict):
        extra = exc.extra
    return ProblemDetailsException(
        type_=slug,
        title=detail if status != 500 else "Internal error",
        status_code=status,
        detail=detail,
        extra=extra,
        headers=exc.headers,
    )


def problem_for(request: Request[Any, Any, Any], exc: Exception) -> ProblemDetailsException:
    """The problem details of any error: the API answers them as JSON, the pages in Chinese."""
    if hasattr(exc, "problem_type") and hasattr(exc, "status"):
        return domain_problem(exc)
    if isinstance(exc, ProblemDetailsException):
        return exc
    if isinstance(exc, HTTPException):
        if exc.status_code >= 500:
            log.error("server error", path=request.url.path, method=request.method, exc_info=exc)
        return http_problem(exc)
    log.exception("unhandled error", path=request.url.path, method=request.method)
    return ProblemDetailsException(
        type_="internal-error",
        title="Internal error",
        status_code=500,
        detail="The exchange could not complete the request; it has been logged.",
    )


def handle_any(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return problem_for(request, exc).to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_handler=lambda request, exc: handle_any(request, exc)))


EXCEPTION_HANDLERS = {Exception: handle_any, HTTPException: handle_any}
