from sqlalchemy import text
from sqlalchemy.orm import Session


def test_timescaledb_and_postgis_are_installed(db: Session) -> None:
    rows = db.execute(
        text(
            "SELECT extname, extversion FROM pg_extension "
            "WHERE extname IN ('timescaledb', 'postgis')"
        )
    ).all()
    installed: dict[str, str] = dict(rows)

    assert set(installed) == {"timescaledb", "postgis"}
    assert installed["timescaledb"].startswith("2.")
    assert installed["postgis"].startswith("3.")


def test_postgis_measures_geodesic_distance(db: Session) -> None:
    metres = db.scalar(
        text(
            "SELECT ST_Distance('SRID=4326;POINT(0 0)'::geography, "
            "'SRID=4326;POINT(1 0)'::geography)"
        )
    )

    assert metres is not None
    assert 111_000 < metres < 111_400


def test_timescaledb_buckets_time(db: Session) -> None:
    bucket = db.scalar(
        text(
            "SELECT time_bucket('15 minutes', '2026-01-01 10:07:00+00'::timestamptz)"
            " = '2026-01-01 10:00:00+00'::timestamptz"
        )
    )

    assert bucket is True
