"""A faster strawberry-django field for plain model columns.

strawberry-django marks every field "not basic", so strawberry builds an ``Info`` object, parses
arguments and runs the field-extension chain for each one — per row, per column. For a plain
column (no resolver, no arguments, no extensions, no permission classes, not a relation) none of
that is needed: ``ColumnField`` lets strawberry take its "basic field" path, which calls
``get_result`` directly (strawberry-django still reads the cached column value, so the optimizer's
``only()``/``select_related`` hints are unchanged). Use it with
``@strawberry_django.type(Model, field_cls=ColumnField)``; fields with resolvers, arguments or
relations keep the full path automatically.
"""

from __future__ import annotations

from strawberry_django.fields.field import StrawberryDjangoField


class ColumnField(StrawberryDjangoField):
    @property
    def is_basic_field(self) -> bool:
        return not (
            self.base_resolver
            or self.extensions
            or self.permission_classes
            or self.is_relation
            or self.arguments
        )
