"""flask-smorest's Blueprint with typed decorators (flask-smorest ships no type hints)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_smorest
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """A resource blueprint: ``route``, ``arguments``, ``response``, ``alt_response``, ``doc``.

    Unknown query parameters are refused (422) like unknown body fields, so a misspelt filter
    never silently widens a list.
    """

    ARGUMENTS_PARSER = FlaskParser(unknown=RAISE)

    def route(self, rule: str, **options: Any) -> Callable[[T], T]:
        """Register a view function or MethodView (see flask-smorest)."""
        return cast(Callable[[T], T], super().route(rule, **options))

    def arguments(self, schema: Any, **options: Any) -> Callable[[F], F]:
        """Parse and validate a request part with a marshmallow schema (422 on bad input)."""
        return cast(Callable[[F], F], super().arguments(schema, **options))

    def response(self, status_code: int, schema: Any = None, **options: Any) -> Callable[[F], F]:
        """Serialise the view's result with a schema and document the response."""
        return cast(Callable[[F], F], super().response(status_code, schema, **options))

    def alt_response(self, status_code: int, **options: Any) -> Callable[[F], F]:
        """Document an alternative response."""
        return cast(Callable[[F], F], super().alt_response(status_code, **options))

    def doc(self, **kwargs: Any) -> Callable[[F], F]:
        """Add OpenAPI operation fields verbatim."""
        return cast(Callable[[F], F], flask_smorest.Blueprint.doc(**kwargs))


ID = "int(min=1, max=9223372036854775807)"
"""URL converter of numeric ids: 1 to the largest BIGINT (larger ids are a 404, not an
overflow)."""
