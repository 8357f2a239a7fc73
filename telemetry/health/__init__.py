"""Asset health scores: an explainable 0-100 combination of metric zones, alerts and wear."""
