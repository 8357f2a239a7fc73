"""Codes reach people as words: registered labels, and a readable fallback for the rest."""

from __future__ import annotations

from core.labels import label, labels_of, register_labels
from telemetry.health.scoring import AssetFacts, score_asset
from telemetry.payload import Reason
from telemetry.stream import MetricSpec


def test_a_registered_code_reads_as_its_label() -> None:
    register_labels("test_kind", {"on_increment": "Rebate on the growth"})
    assert label("on_increment", "test_kind") == "Rebate on the growth"
    assert labels_of("test_kind") == {"on_increment": "Rebate on the growth"}


def test_a_forgotten_code_still_reads_as_words() -> None:
    assert label("condenser_pressure", "nothing_registered") == "Condenser pressure"
    assert label("metric:vibration", "nothing_registered") == "Metric vibration"
    assert label(None, "nothing_registered") == ""


def test_every_dead_letter_reason_has_a_label() -> None:
    labels = labels_of("dead_letter_reason")
    assert set(labels) == {reason.value for reason in Reason}
    assert all("_" not in text for text in labels.values())


def test_health_factors_carry_the_metric_label_and_words() -> None:
    spec = MetricSpec(
        "condenser_pressure", 0, "bar", 0, 40, None, 30, None, 35, "Condenser pressure"
    )
    facts = AssetFacts(
        asset_id=1,
        product_model_id=1,
        family="chiller",
        hours_since_service=900,
        service_interval_hours=1000,
        latest={"condenser_pressure": (32.0, spec)},
    )
    labels = [c["label"] for c in score_asset(facts).contributors]
    assert labels == ["Condenser pressure", "Open alerts", "Predicted failure", "Service due"]
