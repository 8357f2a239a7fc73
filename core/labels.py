"""Words for people: every stored code a page shows (an enum value, a reason, a metric key)
has a label. Each package registers the labels of its own codes next to their definition;
pages use the `label` template filter, `{{ value|label("dead_letter_reason") }}`."""

from __future__ import annotations

from collections.abc import Mapping

_LABELS: dict[str, dict[str, str]] = {}


def register_labels(kind: str, labels: Mapping[str, str]) -> None:
    """Name the codes of one kind (the same code may mean different things in two kinds)."""
    _LABELS.setdefault(kind, {}).update(labels)


def label(value: object, kind: str) -> str:
    """The label of a code; an unregistered one is still made readable ("ts_future" becomes
    "Ts future"), so no key reaches a person even when a label was forgotten."""
    if value is None:
        return ""
    code = str(getattr(value, "value", value))
    found = _LABELS.get(kind, {}).get(code)
    if found is not None:
        return found
    words = code.replace("_", " ").replace(":", " ").strip()
    return words[:1].upper() + words[1:]


def labels_of(kind: str) -> dict[str, str]:
    """Every registered code of a kind with its label (for a filter's options)."""
    return dict(_LABELS.get(kind, {}))
