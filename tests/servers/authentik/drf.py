"""Just enough of Django REST framework's field validation to answer like authentik does.

Fields coerce the way DRF does (``"true"`` is a boolean, ``"3"`` an integer, strings are
trimmed) and fail with DRF's own messages. That leniency is deliberate: the real server
accepts such bodies, and the vendor-model contract check (contract.py) is what flags them.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Callable

REQUIRED = "This field is required."
NULL = "This field may not be null."
BLANK = "This field may not be blank."
NOT_A_DICT = "Invalid data. Expected a dictionary, but got %s."
NOT_A_LIST = 'Expected a list of items but got type "%s".'
DOES_NOT_EXIST = 'Invalid pk "%s" - object does not exist.'
INCORRECT_TYPE = "Incorrect type. Expected pk value, received %s."
INVALID_UUID = "\u201c%s\u201d is not a valid UUID."
INVALID_CHOICE = '"%s" is not a valid choice.'
INVALID_URL = "Enter a valid URL."
FILTER_INVALID_CHOICE = "Select a valid choice. %s is not one of the available choices."
FILTER_INVALID_OBJECT = "Select a valid choice. That choice is not one of the available choices."

TRUE_VALUES = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1"}
FALSE_VALUES = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0"}

_RE_DECIMAL = re.compile(r"\.0*\s*$")
_URL = re.compile(r"^(?:https?|ftps?)://[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)


class Invalid(Exception):
    """A field (or the whole body) failed; ``detail`` is DRF's error value for it."""

    def __init__(self, detail: Any):
        super().__init__(detail)
        self.detail = detail


Validator = Callable[[Any], None]


def js_type(value: Any) -> str:
    return type(value).__name__


class Field:
    """A writable field. ``validators`` run after conversion; each may raise ``Invalid``."""

    def __init__(self, required: bool = False, allow_null: bool = False, validators: list[Validator] | None = None):
        self.required = required
        self.allow_null = allow_null
        self.validators = list(validators or [])

    def run(self, value: Any) -> Any:
        if value is None:
            if self.allow_null:
                return None
            raise Invalid([NULL])
        value = self.convert(value)
        messages: list[str] = []
        for validator in self.validators:
            try:
                validator(value)
            except Invalid as exc:
                if isinstance(exc.detail, list):
                    messages.extend(exc.detail)
                else:
                    raise
        if messages:
            raise Invalid(messages)
        return value

    def convert(self, value: Any) -> Any:  # pragma: no cover - overridden
        return value


class Char(Field):
    def __init__(self, allow_blank: bool = False, max_length: int | None = None, min_length: int | None = None,
                 trim: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.allow_blank = allow_blank
        self.trim = trim
        checks: list[Validator] = []
        if max_length is not None:
            checks.append(_max_length(max_length))
        if min_length is not None:
            checks.append(_min_length(min_length))
        self.validators = checks + self.validators

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Invalid(["Not a valid string."])
        text = str(value)
        if self.trim:
            text = text.strip()
        if text == "":
            if not self.allow_blank:
                raise Invalid([BLANK])
            return ""
        return text


def _max_length(limit: int) -> Validator:
    def check(value: Any) -> None:
        if len(str(value)) > limit:
            raise Invalid(["Ensure this field has no more than %d characters." % limit])
    return check


def _min_length(limit: int) -> Validator:
    def check(value: Any) -> None:
        if len(str(value)) < limit:
            raise Invalid(["Ensure this field has at least %d characters." % limit])
    return check


class Boolean(Field):
    def convert(self, value: Any) -> Any:
        if value is True or value is False:
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            if value in TRUE_VALUES:
                return True
            if value in FALSE_VALUES:
                return False
        raise Invalid(["Must be a valid boolean."])


class Integer(Field):
    def __init__(self, min_value: int | None = None, max_value: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.min_value = min_value
        self.max_value = max_value

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Invalid(["A valid integer is required."])
        try:
            number = int(_RE_DECIMAL.sub("", str(value)))
        except ValueError as exc:
            raise Invalid(["A valid integer is required."]) from exc
        if self.min_value is not None and number < self.min_value:
            raise Invalid(["Ensure this value is greater than or equal to %d." % self.min_value])
        if self.max_value is not None and number > self.max_value:
            raise Invalid(["Ensure this value is less than or equal to %d." % self.max_value])
        return number


class Choice(Field):
    def __init__(self, choices: list[str] | tuple[str, ...], allow_blank: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.choices = list(choices)
        self.allow_blank = allow_blank

    def convert(self, value: Any) -> Any:
        if value == "" and self.allow_blank:
            return ""
        if isinstance(value, (dict, list)) or str(value) not in self.choices:
            raise Invalid([INVALID_CHOICE % (value,)])
        return str(value)


class PrimaryKey(Field):
    """A foreign key by pk. ``exists(pk)`` says whether the (already normalised) pk may be used."""

    def __init__(self, exists: Callable[[Any], bool], pk_type: str = "uuid", **kwargs: Any):
        super().__init__(**kwargs)
        self.exists = exists
        self.pk_type = pk_type

    def convert(self, value: Any) -> Any:
        if isinstance(value, (bool, list, dict)):
            raise Invalid([INCORRECT_TYPE % js_type(value)])
        if self.pk_type == "uuid":
            try:
                if isinstance(value, int):
                    normal = str(uuid.UUID(int=value))
                elif isinstance(value, str):
                    normal = str(uuid.UUID(value))
                else:
                    raise ValueError(value)
            except ValueError as exc:
                raise Invalid([INVALID_UUID % (value,)]) from exc
        else:
            try:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(value)
                normal = int(value)
            except ValueError as exc:
                raise Invalid([INCORRECT_TYPE % js_type(value)]) from exc
        if not self.exists(normal):
            raise Invalid([DOES_NOT_EXIST % (value,)])
        return normal


class ManyPrimaryKeys(Field):
    """A many-to-many field: a list of pks; the first bad item is the error (DRF's ManyRelatedField)."""

    def __init__(self, child: PrimaryKey, **kwargs: Any):
        super().__init__(**kwargs)
        self.child = child

    def convert(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise Invalid([NOT_A_LIST % js_type(value)])
        result = []
        for item in value:
            normal = self.child.run(item)
            if normal not in result:
                result.append(normal)
        return result


class ListOf(Field):
    """DRF ListField: errors are ``{index: [...]}``."""

    def __init__(self, child: Field, **kwargs: Any):
        super().__init__(**kwargs)
        self.child = child

    def convert(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise Invalid([NOT_A_LIST % js_type(value)])
        result, errors = [], {}
        for index, item in enumerate(value):
            try:
                result.append(self.child.run(item))
            except Invalid as exc:
                errors[str(index)] = exc.detail
        if errors:
            raise Invalid(errors)
        return result


class NestedList(Field):
    """A nested ``many=True`` serializer: one error object per item, ``{}`` for good items."""

    def __init__(self, fields: list[tuple[str, Field]], defaults: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.fields = fields
        self.defaults = dict(defaults or {})

    def convert(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise Invalid({"non_field_errors": [NOT_A_LIST % js_type(value)]})
        result, errors, failed = [], [], False
        for item in value:
            if not isinstance(item, dict):
                errors.append({"non_field_errors": [NOT_A_DICT % js_type(item)]})
                failed = True
                continue
            data, item_errors = run_fields(self.fields, item, partial=False)
            errors.append(item_errors)
            if item_errors:
                failed = True
            else:
                entry = dict(self.defaults)
                entry.update(data)
                result.append(entry)
        if failed:
            raise Invalid(errors)
        return result


def run_fields(fields: list[tuple[str, Field]], data: dict, partial: bool) -> tuple[dict, dict]:
    """Validate ``data`` field by field; returns (validated values, errors in field order)."""
    validated: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, field in fields:
        if name not in data:
            if field.required and not partial:
                errors[name] = [REQUIRED]
            continue
        try:
            validated[name] = field.run(data[name])
        except Invalid as exc:
            errors[name] = exc.detail
    return validated, errors


# ---- validators ---------------------------------------------------------------------------
def url_validator(value: Any) -> None:
    if value and not _URL.match(str(value)):
        raise Invalid([INVALID_URL])


_DURATION_KEYS = ("milliseconds", "microseconds", "days", "seconds", "minutes", "hours", "weeks")


def duration_validator(value: Any) -> None:
    """authentik's ``timedelta_string_validator`` ("hours=1;minutes=2")."""
    try:
        found = 0
        for pair in str(value).split(";"):
            key, number = pair.split("=")
            if key.lower() not in _DURATION_KEYS:
                continue
            float(number)
            found += 1
        if not found:
            raise ValueError(value)
    except ValueError as exc:
        raise Invalid(["%s is not in the correct format of 'hours=3;minutes=1'." % value]) from exc


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+\Z")


def slug_validator(value: Any) -> None:
    if not _SLUG.match(str(value)):
        raise Invalid(["Enter a valid \u201cslug\u201d consisting of letters, numbers, underscores or hyphens."])
