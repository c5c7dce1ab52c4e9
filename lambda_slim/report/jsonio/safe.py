"""Untrusted JSON, read safely: bounded nesting, finite numbers, and typed access that names
the field on every failure.

A report handed to ``report``, ``diff`` or ``why`` may be hand-edited or hostile. Python's
:func:`json.loads` accepts ``NaN`` and ``Infinity``, turns ``1e400`` into ``inf``, builds
integers of any length (and raises past 4,300 digits) and recurses once per nesting level
(``RecursionError`` at about a thousand). :func:`parse_json` bounds the nesting before parsing
and keeps every number as written, so the typed reader (:class:`Field`) can refuse a bad one
by the field it sits in: ``packages[3].final_bytes is not a finite number``.
"""

from __future__ import annotations

import json
import math
import re
from typing import NoReturn

#: Deeper than any report lambda-slim writes (the file tree nests one level per folder).
MAX_DEPTH = 200
#: The largest integer a size or count may be (a signed 64-bit integer).
MAX_INT = 2**63 - 1
_DIGITS = 24
#: The field name of the document as a whole.
DOCUMENT = "(document)"

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"(\s*:)?|[\[\]{}]')


class JsonFieldError(ValueError):
    """A JSON value that is not what the schema says: ``field`` (``verify.init_ms``) and
    what is wrong with it (``is missing``, ``should be a number, found a string``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem

    def describe(self) -> str:
        """``packages[0].bytes should be …``, or ``it is not valid JSON …`` for the whole."""
        return f"{'it' if self.field == DOCUMENT else 'field ' + self.field} {self.problem}"


class _Huge(str):
    """An integer literal too long to be any size or count (kept as text, refused by field)."""


def _int(text: str) -> int | _Huge:
    return int(text) if len(text.lstrip("-")) <= _DIGITS else _Huge(text)


def _constant(name: str) -> float:
    return float(name)  # NaN / Infinity / -Infinity: refused by the field that holds them


def _check_depth(text: str) -> None:
    depth = 0
    key = DOCUMENT
    for m in _TOKENS.finditer(text):
        token = m.group(0)
        if token[0] == '"':
            if m.group(1) and depth == 1:
                try:
                    key = printable(str(json.loads(token[: token.rindex('"') + 1])))
                except ValueError:
                    key = printable(token)
            continue
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonFieldError(key, f"is nested deeper than {MAX_DEPTH} levels")
        else:
            depth -= 1


def parse_json(text: str) -> object:
    """The JSON value of ``text`` (numbers as written; :class:`JsonFieldError` when it is not
    JSON or nests deeper than :data:`MAX_DEPTH`)."""
    _check_depth(text)
    try:
        return json.loads(text, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise JsonFieldError(DOCUMENT, f"is not valid JSON ({exc.msg} at line {exc.lineno}, "
                             f"column {exc.colno})") from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise JsonFieldError(DOCUMENT, "is nested too deeply") from None


def printable(text: str) -> str:
    """``text`` as it can be printed: a lone surrogate becomes its ``\\udfff`` escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def kind(value: object) -> str:
    """What a JSON value is, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float, _Huge)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class Field:
    """A value of an untrusted JSON document and where it sits (``packages[3].name``); each
    accessor checks the type (and range) and raises :class:`JsonFieldError` naming the field."""

    __slots__ = ("path", "value")

    def __init__(self, value: object, path: str = "") -> None:
        self.value = value
        self.path = path

    def fail(self, problem: str) -> NoReturn:
        raise JsonFieldError(self.path or DOCUMENT, problem)

    def _want(self, what: str) -> NoReturn:
        self.fail(f"should be {what}, found {kind(self.value)}")

    def _child(self, key: str) -> str:
        key = printable(key)
        return f"{self.path}.{key}" if self.path else key

    # --- containers ---------------------------------------------------------------------

    def obj(self) -> dict[str, object]:
        if not isinstance(self.value, dict):
            self._want("an object")
        return self.value

    def has(self, key: str) -> bool:
        return self.obj().get(key) is not None

    def __getitem__(self, key: str) -> Field:
        d = self.obj()
        if key not in d:
            raise JsonFieldError(self._child(key), "is missing")
        return Field(d[key], self._child(key))

    def get(self, key: str) -> Field | None:
        """The field ``key``, or None when it is absent or null."""
        return self[key] if self.has(key) else None

    def items(self) -> list[Field]:
        if not isinstance(self.value, list):
            self._want("a list")
        return [Field(v, f"{self.path}[{i}]") for i, v in enumerate(self.value)]

    def entries(self) -> list[tuple[str, Field]]:
        out = []
        for k, v in self.obj().items():
            Field(k, self._child(k)).text()  # the key is text too (a name, a path)
            out.append((k, Field(v, self._child(k))))
        return out

    # --- scalars ------------------------------------------------------------------------

    def text(self) -> str:
        if not isinstance(self.value, str) or isinstance(self.value, _Huge):
            self._want("a string")
        try:
            self.value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (``"\\ud800"``): no file or page can hold it
            self.fail("is not valid Unicode text (it holds a lone surrogate escape)")
        return self.value

    def flag(self) -> bool:
        if not isinstance(self.value, bool):
            self._want("true or false")
        return self.value

    def whole(self, low: int = 0, high: int = MAX_INT) -> int:
        v = self.value
        if isinstance(v, _Huge):
            self.fail(f"is out of range (a number of {len(v.lstrip('-'))} digits)")
        if isinstance(v, bool) or not isinstance(v, int):
            self._want("a whole number")
        if not low <= v <= high:
            self.fail(f"is out of range ({v}; expected {low} to {high})")
        return v

    def number(self, low: float = 0.0, high: float = float(MAX_INT)) -> float:
        v = self.value
        if isinstance(v, _Huge):
            self.fail(f"is out of range (a number of {len(v.lstrip('-'))} digits)")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self._want("a number")
        if not math.isfinite(v):
            self.fail(f"is not a finite number ({v})")
        if not low <= v <= high:
            self.fail(f"is out of range ({v}; expected {low:g} to {high:g})")
        return float(v)

    def texts(self) -> tuple[str, ...]:
        return tuple(f.text() for f in self.items())

    # --- optional scalars (absent or null -> None) ---------------------------------------

    def opt_text(self, key: str) -> str | None:
        f = self.get(key)
        return f.text() if f is not None else None

    def opt_whole(self, key: str) -> int | None:
        f = self.get(key)
        return f.whole() if f is not None else None

    def opt_number(self, key: str) -> float | None:
        f = self.get(key)
        return f.number() if f is not None else None
