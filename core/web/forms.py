"""HTML forms: the submitted fields parsed into a Pydantic model, or the same form again with
the input kept and each problem in words next to its field (core/templates/core/_forms.html).

Usage (docs/decisions.md, "One form mechanism"):

    form = await read_form(request, InviteForm)
    with form.refusals(session):           # a DomainError about the input lands in the form
        if form.data is not None:
            invite_user(session, ..., email=form.data.email)
    if form.errors:
        return render_form(request, TEMPLATE, {...}, form=form)   # 422, block by HX-Target
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar, get_args, get_origin

from annotated_types import MaxLen, MinLen
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from core.errors import Conflict, DomainError, InvalidInput
from core.web.templating import render

M = TypeVar("M", bound=BaseModel)
GENERAL = ""  # the key of a problem that concerns the whole form, not one field


class FormModel(BaseModel):
    """Base of the form models: surrounding blanks dropped, unknown fields (csrf_token) ignored."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


@dataclass(frozen=True, slots=True)
class Say:
    """The words for one field's problems, by pydantic error type, in the field's Annotated:
    `Annotated[str, Field(max_length=200), Say(missing="Enter your full name")]`."""

    missing: str | None = None
    invalid: str | None = None


@dataclass
class PageForm(Generic[M]):
    """A form as the page shows it: what was typed, the problems, and the parsed data."""

    model: type[M]
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    data: M | None = None
    raw: FormData | None = None

    def value(self, name: str, default: Any = "") -> Any:
        """What the field shows: the submitted text, else the initial value."""
        return self.values.get(name, default)

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    def max_length(self, name: str) -> int | None:
        """The field's limit from the model, for the input's maxlength and its hint."""
        return _constraint(self.model, name, MaxLen, "max_length")

    def min_length(self, name: str) -> int | None:
        return _constraint(self.model, name, MinLen, "min_length")

    def files(self, name: str) -> list[UploadFile]:
        """The files chosen in a file input (never kept: a browser cannot refill one)."""
        if self.raw is None:
            return []
        return [item for item in self.raw.getlist(name) if isinstance(item, UploadFile)]

    def add_error(self, name: str, message: str) -> None:
        """A problem next to field `name` (GENERAL for the whole form); the first one stays."""
        self.errors.setdefault(name, message)

    @property
    def status_code(self) -> int:
        return 422 if self.errors else 200

    @contextmanager
    def refusals(self, session: Session) -> Iterator[None]:
        """Run a service call in a savepoint; a refusal of the input (InvalidInput, Conflict or
        any DomainError naming a field) undoes its writes and lands in the form."""
        try:
            with session.begin_nested():
                yield
        except DomainError as exc:
            field_name = exc.details.get("field")
            if not (isinstance(exc, InvalidInput | Conflict) or isinstance(field_name, str)):
                raise
            self.add_error(field_name if isinstance(field_name, str) else GENERAL, exc.message)


def blank_form(model: type[M], **initial: Any) -> PageForm[M]:
    """The form of a GET: nothing typed yet, the initial values shown."""
    return PageForm(model, values={name: _shown(value) for name, value in initial.items()})


async def read_form(
    request: Request,
    model: type[M],
    *,
    max_files: int = 1,
    max_fields: int = 200,
    files_field: str = GENERAL,
) -> PageForm[M]:
    """The submitted form parsed into `model`, or its problems in words, the input kept.

    A multipart body with more than `max_files` files or `max_fields` fields is refused while
    it is parsed (before any of it is spooled to disk), the problem next to `files_field`."""
    try:
        raw = await request.form(max_files=max_files, max_fields=max_fields)
    except HTTPException as exc:
        if exc.status_code != 400 or "Too many" not in str(exc.detail):
            raise
        form = PageForm(model)
        many = f"{max_files} file{'' if max_files == 1 else 's'}"
        form.add_error(
            files_field if "files" in str(exc.detail) else GENERAL, f"Send at most {many} at once."
        )
        return form
    stack = request.scope.get("fastapi_middleware_astack")
    if isinstance(stack, AsyncExitStack):  # uploaded files are closed after the response
        stack.push_async_callback(raw.close)
    form = PageForm(model, raw=raw)
    submitted: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in raw:
            continue
        if _is_list(info.annotation):
            items = [v for v in raw.getlist(name) if isinstance(v, str)]
            form.values[name] = items
            submitted[name] = [v for v in items if v.strip()]
            continue
        text = raw.get(name)
        if not isinstance(text, str):
            continue
        form.values[name] = text
        if text.strip():  # an empty input is a field left out: its default, or "missing"
            submitted[name] = text
    try:
        form.data = model.model_validate(submitted)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else GENERAL
            form.add_error(name, message_for(model, error))
    return form


def render_form(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    form: PageForm[Any],
    block: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The page (or, for htmx, the block named by HX-Target) with the form; 422 with errors."""
    return render(
        request,
        template,
        {**context, "form": form},
        block=block,
        status_code=form.status_code,
        headers=headers,
    )


def message_for(model: type[BaseModel], error: ErrorDetails) -> str:
    """Pydantic's error in words a person uses; the field's own Say() words first."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    say = _say(model, str(error["loc"][0])) if error["loc"] else Say()
    missing = kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1)
    if missing:
        return say.missing or "Enter a value"
    if kind == "value_error":  # our own validators' words
        return str(error["msg"]).removeprefix("Value error, ")
    if say.invalid:
        return say.invalid
    return _GENERIC.get(kind, "Enter a valid value").format(**_readable(ctx))


_GENERIC = {
    "string_too_short": "Enter at least {min_length} characters",
    "string_too_long": "Enter at most {max_length} characters",
    "too_long": "Choose at most {max_length}",
    "int_parsing": "Enter a whole number, like 12",
    "int_from_float": "Enter a whole number, like 12",
    "float_parsing": "Enter a number, like 12.5",
    "decimal_parsing": "Enter a number, like 12.50",
    "decimal_max_places": "Enter a number with at most {decimal_places} decimal places",
    "decimal_max_digits": "Enter a number with at most {max_digits} digits",
    "greater_than_equal": "Enter {ge} or more",
    "greater_than": "Enter more than {gt}",
    "less_than_equal": "Enter {le} or less",
    "less_than": "Enter less than {lt}",
    "date_parsing": "Enter a date like 2026-03-31",
    "date_from_datetime_parsing": "Enter a date like 2026-03-31",
    "datetime_parsing": "Enter a date and time like 2026-03-31 09:00",
    "datetime_from_date_parsing": "Enter a date and time like 2026-03-31 09:00",
    "literal_error": "Choose one of the options",
    "enum": "Choose one of the options",
    "bool_parsing": "Choose yes or no",
    "string_pattern_mismatch": "Check the format of this value",
}


def _readable(ctx: Mapping[str, Any]) -> dict[str, str]:
    return {
        key: f"{value:,}" if isinstance(value, int | Decimal) else str(value)
        for key, value in ctx.items()
    }


def _say(model: type[BaseModel], name: str) -> Say:
    info = model.model_fields.get(name)
    found = [item for item in (info.metadata if info else []) if isinstance(item, Say)]
    return found[0] if found else Say()


def _constraint(model: type[BaseModel], name: str, kind: type[Any], attr: str) -> int | None:
    info = model.model_fields.get(name)
    for item in info.metadata if info else []:
        if isinstance(item, kind):
            value = getattr(item, attr)
            return int(value) if value is not None else None
    return None


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(get_origin(arg) is list for arg in get_args(annotation))


def _shown(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value)
