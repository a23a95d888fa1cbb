"""Differential check of the fast field path (``schema/fast_execution.py``).

Every GraphQL request a test sends through ``tests.graphql_client.execute`` (so every named
operation of ``graphql/operations/`` the suite runs, with the variables and data of the test
that runs it, hypothesis-generated ones included) is executed **twice inside that one request**:

1. with the fast path **off** — the reference: graphql-core's own executor — recording the raw
   value every *root* field's resolver returned (or the exception it raised);
2. with the fast path **on**, the root resolvers *replayed* from the recording instead of called.

The fast field path never touches root fields (it replaces the execution of an object's
sub-selection), so replaying them changes nothing it is responsible for, while it makes
mutations safe to run twice (no second sign-up, no second token) and gives both runs the same
tokens, ids and clocks. A root field with a **row plan** (``schema/fast_rows.py``: a catalogue
list page, a query) is the exception: the plan loads the rows through the resolver, so in the
fast run that resolver runs again, for real (a read: both runs see the same rows).
Extensions that change state per execution (the cost budget's charge, ``schema/cost.py``) run
in the reference only. What execution produces — ``data`` and
``errors`` — is serialised for both and must be **byte-identical**; the reference is what the
client receives. A request refused before execution (no root field ran) has nothing to compare.

Skipped (the reference alone runs) while a test counts SQL statements
(``django_assert_num_queries`` / ``assertNumQueries`` set ``force_debug_cursor``): the second
execution's nested queries would be counted too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.test import override_settings
from strawberry.extensions import SchemaExtension
from strawberry.http import process_result

from schema import fast_execution, fast_rows
from schema import schema as product_schema
from schema.cost import CostExtension

_MISSING = object()
_ONCE = (CostExtension,)


class _RootReplay(SchemaExtension):
    """Records (``mode="record"``) or replays (``"replay"``) the raw results of root fields."""

    mode = "record"
    recorded: dict[str, Any]

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if info.path.prev is not None:
            return _next(root, info, *args, **kwargs)
        key = info.path.key
        if self.mode == "replay":
            if fast_rows.loading_rows():
                # A row plan (schema/fast_rows.py) loads the rows itself: the resolver runs.
                return _next(root, info, *args, **kwargs)
            value = self.recorded.get(key, _MISSING)
            if value is _MISSING:
                raise AssertionError(f"root field {key} was not executed by the reference run")
            if isinstance(value, _Raised):
                raise value.error
            return value
        try:
            value = _next(root, info, *args, **kwargs)
        except Exception as error:
            self.recorded[key] = _Raised(error)
            raise
        self.recorded[key] = value
        return value


class _Raised:
    def __init__(self, error: Exception) -> None:
        self.error = error


def _encode(result: Any) -> str:
    response: dict[str, Any] = dict(process_result(result))
    executed = {key: response[key] for key in ("data", "errors") if key in response}
    return json.dumps(executed, cls=DjangoJSONEncoder, separators=(",", ":"))


compared: list[str] = []  # operation names (or "anonymous") compared during this session


@contextlib.contextmanager
def differential_execution() -> Iterator[None]:
    original = product_schema.execute_sync

    def execute_sync(query: Any, *args: Any, **kwargs: Any) -> Any:
        if connection.force_debug_cursor:
            return original(query, *args, **kwargs)
        recorded: dict[str, Any] = {}

        def extension(mode: str) -> type[_RootReplay]:
            return type("RootReplay", (_RootReplay,), {"mode": mode, "recorded": recorded})

        base: Any = product_schema.extensions
        with override_settings(GRAPHQL_FAST_EXECUTION=False):
            product_schema.extensions = (*base, extension("record"))
            try:
                reference = original(query, *args, **kwargs)
            finally:
                product_schema.extensions = base
        if not recorded:  # refused before execution (a limit, the cost budget): nothing ran
            return reference
        replay = extension("replay")
        # Extensions that change state per execution (the cost budget's charge) run once, in the
        # reference run; the comparison covers what execution produces: data and errors.
        repeated = tuple(e for e in base if not (isinstance(e, type) and issubclass(e, _ONCE)))
        with (
            override_settings(GRAPHQL_FAST_EXECUTION=True),
            mock.patch.object(
                fast_execution,
                "_PASS_THROUGH_MIDDLEWARE",
                (*fast_execution._PASS_THROUGH_MIDDLEWARE, replay),
            ),
        ):
            product_schema.extensions = (*repeated, replay)
            try:
                fast = original(query, *args, **kwargs)
            finally:
                product_schema.extensions = base
        expected, actual = _encode(reference), _encode(fast)
        assert actual == expected, (
            "the fast field path changed the response:\n"
            f"  reference: {expected[:2000]}\n  fast:      {actual[:2000]}"
        )
        compared.append(kwargs.get("operation_name") or "anonymous")
        return reference

    with mock.patch.object(product_schema, "execute_sync", execute_sync):
        yield
