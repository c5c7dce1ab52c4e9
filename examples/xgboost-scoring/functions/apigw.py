"""API Gateway REST (v1) proxy events in, proxy responses out; errors that never leak a trace."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Event = dict[str, Any]
Response = dict[str, Any]


class HttpError(Exception):
    """An error whose message is safe to show the caller, with its HTTP status."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


class BadRequest(HttpError):
    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(400, message, **details)


class Unavailable(HttpError):
    """A dependency (model, data source) is missing or unreachable: retrying may help."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(503, message, **details)


def json_response(status: int, payload: dict[str, Any]) -> Response:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "isBase64Encoded": False,
        "body": json.dumps(payload, allow_nan=False, separators=(",", ":")),
    }


def error_response(error: HttpError) -> Response:
    return json_response(error.status, {"error": error.message, **error.details})


def method(event: Event) -> str:
    return str(event.get("httpMethod") or "").upper()


def query_param(event: Event, name: str) -> str | None:
    params = event.get("queryStringParameters") or {}
    value = params.get(name)
    return None if value is None else str(value)


def body_text(event: Event) -> str:
    body = event.get("body")
    if body is None:
        return ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest("request body is not valid base64-encoded UTF-8") from exc
    return str(body)


def require_method(event: Event, allowed: str) -> None:
    got = method(event)
    if got != allowed:
        raise HttpError(405, f"method {got or '(none)'} not allowed; use {allowed}")


def guarded(fn: Callable[[Event, Any], Response]) -> Callable[[Event, Any], Response]:
    """Wrap a handler: HttpError becomes its response; anything else a bare 500, logged."""

    def handler(event: Event, context: Any = None) -> Response:
        try:
            if not isinstance(event, dict):
                raise BadRequest("the event is not an API Gateway proxy event (a JSON object)")
            return fn(event, context)
        except HttpError as err:
            return error_response(err)
        except Exception:
            logger.exception("unhandled error in %s", fn.__qualname__)
            return json_response(500, {"error": "internal error; see the function's logs"})

    handler.__doc__ = fn.__doc__
    handler.__name__ = fn.__name__
    handler.__qualname__ = fn.__qualname__
    return handler
