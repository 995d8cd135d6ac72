"""KPI days and date filters count in the team's time zone, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone

from models import make_engine, make_session_factory
from pipeline import store
from tests.review_seed import seed


def test_a_call_late_in_the_utc_evening_counts_on_the_next_moscow_day(database_url, tmp_path):
    # The seed starts its calls an hour before `now` on consecutive days: 22:30 UTC, which
    # is 01:30 of the next day in Moscow (UTC+3).
    seed(database_url, tmp_path / "archive", now=datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc))
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        utc = store.kpi_report(session=session, date_from=None, date_to=None, time_zone="UTC")
        moscow = store.kpi_report(session=session, date_from=None, date_to=None, time_zone="Europe/Moscow")
        one_utc_day = store.kpi_report(
            session=session, date_from=date(2026, 11, 20), date_to=date(2026, 11, 20), time_zone="UTC"
        )
        one_moscow_day = store.kpi_report(
            session=session, date_from=date(2026, 11, 21), date_to=date(2026, 11, 21), time_zone="Europe/Moscow"
        )
    engine.dispose()
    utc_days = sorted({point.day for point in utc.team_trend})
    moscow_days = sorted({point.day for point in moscow.team_trend})
    assert utc_days[-1] == date(2026, 11, 20) and moscow_days[-1] == date(2026, 11, 21)
    assert [(d - utc_days[0]).days for d in utc_days] == [(d - moscow_days[0]).days for d in moscow_days]
    assert {p.day for p in one_utc_day.team_trend} == {date(2026, 11, 20)}
    assert {p.day for p in one_moscow_day.team_trend} == {date(2026, 11, 21)}
    assert sum(p.calls for p in one_utc_day.team_trend) == sum(p.calls for p in one_moscow_day.team_trend) > 0
