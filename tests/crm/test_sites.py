from sqlalchemy.orm import Session

from crm import service
from tests.crm.factories import make_org, make_site


def test_nearest_sites_come_closest_first_with_distance_in_metres(db: Session) -> None:
    org = make_org(db)
    # Far from any other test data: a line of sites in the South Pacific.
    far = make_site(db, org=org, lat=-45.0, lon=-150.3, name="far")
    near = make_site(db, org=org, lat=-45.0, lon=-150.01, name="near")
    middle = make_site(db, org=org, lat=-45.0, lon=-150.1, name="middle")

    nearby = service.nearest_sites(db, lat=-45.0, lon=-150.0, limit=3)

    assert [hit.site.id for hit in nearby] == [near.id, middle.id, far.id]
    distances = [hit.distance_m for hit in nearby]
    assert distances == sorted(distances)
    # 0.01 degrees of longitude at 45 degrees south is about 787 metres.
    assert 700 < distances[0] < 900


def test_site_reads_back_its_coordinates_after_a_round_trip(db: Session) -> None:
    site = make_site(db, org=make_org(db), lat=35.6895, lon=139.6917)
    db.expire(site)

    assert (round(site.lat, 6), round(site.lon, 6)) == (35.6895, 139.6917)
