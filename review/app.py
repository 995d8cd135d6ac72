"""The review web app: server-rendered pages over the store's review functions.

Quality leads (and admins) get the queue, every call, KPIs and the agreement page; a manager
gets their own calls only: any other call, and its audio, is a 404 to them.
"""

from __future__ import annotations

import io
import json
import mimetypes
import zipfile
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from models import UserRow
from pipeline import store
from pipeline.errors import CallQAError
from pipeline.score import load_scorecard
from review.charts import Series, line_chart
from review.security import LoginRequired, check_csrf, csrf_token, current_user, db, lead, session_key
from review.tables import Column, Table, csv_response

HERE = Path(__file__).resolve().parent
SESSION_HOURS = 12
# Pages load their own script and style only; no inline script can run.
_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; frame-ancestors 'none'"


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    """A stored time (UTC; SQLite returns it without a zone) as the team's wall-clock time."""
    if not value:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def create_app(
    *, sessions: sessionmaker[Session], secret_key: str, scorecards_dir: Path, https_only: bool = False,
    time_zone: str = "UTC",
) -> FastAPI:
    """The review app; `time_zone` is the team's, in which date filters and KPI days count."""
    app = FastAPI(title="callqa review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sessions = sessions
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_key(secret_key),
        session_cookie="callqa_session",
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=https_only,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    zone = ZoneInfo(time_zone)
    templates.env.filters.update(clock=_clock, percent=_percent, when=lambda value: _when(value, zone))

    @lru_cache(maxsize=32)
    def pass_threshold(scorecard_id: str) -> float:
        return load_scorecard(scorecard_id, scorecards_dir).card.pass_threshold

    def scorecard_ids() -> list[str]:
        return sorted(path.stem for path in scorecards_dir.glob("*.yaml"))

    def render(request: Request, name: str, user: UserRow | None, status_code: int = 200, **context) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            name,
            {"user": user, "csrf_token": csrf_token(request), "status_code": status_code, **context},
            status_code=status_code,
        )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.endswith("/audio"):
            return Response(status_code=exc.status_code)
        message = exc.detail if exc.status_code != 404 else "There is no such page or call, or it is not yours to see."
        return render(request, "error.html", None, status_code=exc.status_code, message=message)

    @app.exception_handler(CallQAError)
    async def refused(request: Request, exc: CallQAError):
        return render(request, "error.html", None, status_code=400, message=str(exc))

    def visible(session: Session, user: UserRow, call_id: str):
        call = store.visible_call(session=session, user=user, call_id=call_id)
        if call is None:
            raise HTTPException(status_code=404)
        return call

    def back_to_call(call_id: str, anchor: str = "") -> RedirectResponse:
        return RedirectResponse(f"/calls/{call_id}{anchor}", status_code=303)

    # -- login ---------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/"):
        return render(request, "login.html", None, next=next, error=None)

    @app.post("/login", dependencies=[Depends(check_csrf)])
    def login(
        request: Request,
        username: str = Form(...),
        password: str = Form(...),
        next: str = Form("/"),
        session: Session = Depends(db),
    ):
        user = store.authenticate(session=session, username=username, password=password)
        if user is None:
            return render(request, "login.html", None, status_code=401, next=next, error="Wrong username or password.")
        request.session.clear()  # a new session id and token after login
        request.session["user_id"] = user.id
        # Only a path on this site, never an address elsewhere.
        safe_next = next if next.startswith("/") and not next.startswith("//") else "/"
        return RedirectResponse(safe_next, status_code=303)

    @app.post("/logout", dependencies=[Depends(check_csrf)])
    def logout(request: Request):
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    def home(user: UserRow = Depends(current_user)):
        return RedirectResponse("/me" if user.role == "manager" else "/queue", status_code=303)

    # -- the quality lead's queue ---------------------------------------------------------

    @app.get("/queue", response_class=HTMLResponse)
    def queue(request: Request, user: UserRow = Depends(lead), session: Session = Depends(db)):
        q = request.query_params
        page_size = 50
        page = max(_int(q.get("page")) or 1, 1)
        filters = store.QueueFilter(
            manager_id=_int(q.get("manager")),
            team_id=_int(q.get("team")),
            date_from=_date(q.get("from")),
            date_to=_date(q.get("to")),
            scorecard_id=q.get("scorecard") or None,
            flag=q.get("flag") if q.get("flag") in store.FLAGS else None,
            review=q.get("review") if q.get("review") in store.REVIEW_STATUSES else "unreviewed",
            offset=(page - 1) * page_size,
            limit=page_size if not q.get("csv") else 10_000,
        )
        result = store.review_queue(session=session, filters=filters, time_zone=time_zone)
        session.commit()  # keeps the queue state the read brought up to date
        table = Table(
            name="queue",
            columns=[
                Column("Call", lambda r: r.call_id, "link"),
                Column("Started", lambda r: r.started_at, "date"),
                Column("Manager", lambda r: r.manager),
                Column("Team", lambda r: r.team),
                Column("Scorecard", lambda r: r.scorecard_id),
                Column("Flags", lambda r: r.flags, "flags"),
                Column("Score", lambda r: r.effective_score, "score"),
                Column("Automatic score", lambda r: r.auto_score, "score"),
                Column("Reviewed", lambda r: "yes" if r.reviewed else "no"),
                Column("Length", lambda r: _clock(r.duration_s)),
            ],
            rows=result.rows,
            link=lambda r: f"/calls/{r.call_id}",
        )
        if q.get("csv"):
            return csv_response(table)
        pages = {
            "previous": page - 1 if page > 1 else None,
            "next": page + 1 if page * page_size < result.total else None,
        }
        query_without_page = {k: v for k, v in q.items() if k != "page" and v}
        return render(
            request,
            "queue.html",
            user,
            table=table,
            total=result.total,
            more=result.more,
            page=page,
            pages=pages,
            query=query_without_page,
            urlencode=urlencode,
            managers=store.list_managers(session=session),
            teams=store.list_teams(session=session),
            scorecards=scorecard_ids(),
            flags=store.FLAGS,
            reviews=store.REVIEW_STATUSES,
            filters=filters,
        )

    # -- one call -------------------------------------------------------------------------

    @app.get("/calls/{call_id}", response_class=HTMLResponse)
    def call_page(call_id: str, request: Request, user: UserRow = Depends(current_user), session: Session = Depends(db)):
        visible(session, user, call_id)
        detail = store.call_detail(session=session, call_id=call_id)
        store.record_access(session=session, username=user.username, action="open_call", call_id=call_id)
        session.commit()
        return render(request, "call.html", user, d=detail, human_labels=store.HUMAN_LABELS)

    def audio_file(stored: str | None, request: Request, user: UserRow, call_id: str, action: str, session: Session):
        path = Path(stored) if stored else None
        if path is None or not path.is_file():
            raise HTTPException(status_code=404)
        # A player fetches many ranges of one file; the first request of a listen is the event.
        if request.headers.get("range") in (None, "bytes=0-"):
            store.record_access(session=session, username=user.username, action=action, call_id=call_id)
            session.commit()
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/calls/{call_id}/audio")
    def call_audio(call_id: str, request: Request, user: UserRow = Depends(current_user), session: Session = Depends(db)):
        # The call's own file, found by id: nothing in the request names a path. Reviewers hear
        # the copy with redacted spans under a tone when the pipeline made one.
        call = visible(session, user, call_id)
        return audio_file(call.review_audio_path or call.archive_path, request, user, call_id, "play_audio", session)

    @app.get("/calls/{call_id}/audio/original")
    def original_audio(call_id: str, request: Request, user: UserRow = Depends(current_user), session: Session = Depends(db)):
        # The unredacted recording: admins only.
        if user.role != "admin":
            raise HTTPException(status_code=403)
        call = visible(session, user, call_id)
        return audio_file(call.archive_path, request, user, call_id, "play_original", session)

    @app.post("/calls/{call_id}/items/{item_id}/override", dependencies=[Depends(check_csrf)])
    def override(
        call_id: str,
        item_id: str,
        status: str = Form(...),
        comment: str = Form(""),
        user: UserRow = Depends(lead),
        session: Session = Depends(db),
    ):
        visible(session, user, call_id)
        scorecard_id = store.call_detail(session=session, call_id=call_id).assessment.scorecard_id
        store.override_item(
            session=session,
            call_id=call_id,
            item_id=item_id,
            to_status=status,
            comment=comment,
            user=user,
            pass_threshold=pass_threshold(scorecard_id),
        )
        session.commit()
        return back_to_call(call_id, f"#item-{item_id}")

    @app.post("/calls/{call_id}/comments", dependencies=[Depends(check_csrf)])
    def comment(
        call_id: str,
        text: str = Form(""),
        at_s: str = Form(""),
        user: UserRow = Depends(current_user),
        session: Session = Depends(db),
    ):
        visible(session, user, call_id)
        try:
            moment = float(at_s) if at_s else None
        except ValueError:
            moment = None
        store.add_comment(session=session, call_id=call_id, user=user, text=text, at_s=moment)
        session.commit()
        return back_to_call(call_id, "#comments")

    @app.post("/calls/{call_id}/reviewed", dependencies=[Depends(check_csrf)])
    def reviewed(call_id: str, user: UserRow = Depends(lead), session: Session = Depends(db)):
        visible(session, user, call_id)
        store.mark_reviewed(session=session, call_id=call_id, user=user)
        session.commit()
        return back_to_call(call_id)

    @app.post("/calls/{call_id}/items/{item_id}/dispute", dependencies=[Depends(check_csrf)])
    def dispute(
        call_id: str,
        item_id: str,
        reason: str = Form(""),
        user: UserRow = Depends(current_user),
        session: Session = Depends(db),
    ):
        call = visible(session, user, call_id)
        if user.role != "manager" or call.manager_id != user.manager_id:
            raise HTTPException(status_code=403, detail="Only the call's own manager can dispute its verdicts.")
        store.dispute_item(session=session, call_id=call_id, item_id=item_id, reason=reason, user=user)
        session.commit()
        return back_to_call(call_id, f"#item-{item_id}")

    @app.post("/calls/{call_id}/acknowledge", dependencies=[Depends(check_csrf)])
    def acknowledge(call_id: str, user: UserRow = Depends(current_user), session: Session = Depends(db)):
        call = visible(session, user, call_id)
        if user.role != "manager" or call.manager_id != user.manager_id:
            raise HTTPException(status_code=403, detail="Only the call's own manager acknowledges its feedback.")
        store.acknowledge(session=session, call_id=call_id, user=user)
        session.commit()
        return back_to_call(call_id)

    # -- a manager's own page ----------------------------------------------------------------

    def date_range(q, default_days: int) -> tuple[date, date]:
        today = datetime.now(zone).date()
        date_to = _date(q.get("to")) or today
        date_from = _date(q.get("from")) or date_to - timedelta(days=default_days - 1)
        return date_from, date_to

    def kpi_table(name: str, rows, first: str) -> Table:
        return Table(
            name=name,
            columns=[
                Column(first, lambda r: r.name),
                *([Column("Team", lambda r: r.team)] if first == "Manager" else []),
                Column("Calls", lambda r: r.calls, "number"),
                Column("Calls per day", lambda r: r.calls_per_day, "number"),
                Column("Average score", lambda r: r.average_score, "score"),
                Column("Pass rate", lambda r: r.pass_rate, "percent"),
                Column("Manager talk share", lambda r: r.talk_ratio, "percent"),
                Column("Conversion", lambda r: r.conversion, "percent"),
                Column("Average check", lambda r: r.average_check, "number"),
            ],
            rows=rows,
        )

    def trend_chart(points, title: str, days: tuple[date, date]) -> str:
        by_series: dict[str, list] = {}
        for p in points:
            by_series.setdefault(p.series, []).append((p.day, p.average_score))
        return line_chart([Series(name, pts) for name, pts in by_series.items()], title=title, days=days, y_max=1.0, percent=True)

    @app.get("/me", response_class=HTMLResponse)
    def my_calls(request: Request, user: UserRow = Depends(current_user), session: Session = Depends(db)):
        if user.manager_id is None:
            return RedirectResponse("/queue", status_code=303)
        q = request.query_params
        date_from, date_to = date_range(q, 90)
        calls = store.manager_calls(session=session, manager_id=user.manager_id, limit=200)
        session.commit()
        calls_table = Table(
            name="my-calls",
            columns=[
                Column("Call", lambda r: r.call_id, "link"),
                Column("Started", lambda r: r.started_at, "date"),
                Column("Score", lambda r: r.effective_score, "score"),
                Column("Passed", lambda r: "yes" if r.passed else "no"),
                Column("Flags", lambda r: r.flags, "flags"),
                Column("Reviewed", lambda r: "yes" if r.reviewed else "no"),
            ],
            rows=calls,
            link=lambda r: f"/calls/{r.call_id}",
        )
        report = store.kpi_report(
            session=session, date_from=date_from, date_to=date_to, manager_id=user.manager_id, time_zone=time_zone
        )
        kpis = kpi_table("my-kpis", report.managers, "Manager")
        rates = report.items
        rates_table = Table(
            name="my-items",
            columns=[
                Column("Item", lambda r: r.item_id),
                Column("Decided", lambda r: r.decided, "number"),
                Column("Pass rate", lambda r: r.pass_rate, "percent"),
            ],
            rows=rates,
        )
        tables = {t.name: t for t in (calls_table, kpis, rates_table)}
        if q.get("csv") in tables:
            return csv_response(tables[q["csv"]])
        return render(
            request,
            "me.html",
            user,
            calls_table=calls_table,
            kpis=kpis,
            rates_table=rates_table,
            chart=trend_chart(report.manager_trend, "My average score per day", (date_from, date_to)),
            date_from=date_from,
            date_to=date_to,
        )

    # -- KPIs for the head of sales ------------------------------------------------------------

    @app.get("/kpis", response_class=HTMLResponse)
    def kpis(request: Request, user: UserRow = Depends(lead), session: Session = Depends(db)):
        q = request.query_params
        date_from, date_to = date_range(q, 30)
        team_id = _int(q.get("team"))
        report = store.kpi_report(session=session, date_from=date_from, date_to=date_to, team_id=team_id, time_zone=time_zone)
        session.commit()
        managers = kpi_table("managers", report.managers, "Manager")
        teams = kpi_table("teams", report.teams, "Team")
        rates = report.items
        item_ids = list(dict.fromkeys(r.item_id for r in rates))
        by_manager: dict[str, dict[str, float]] = {}
        for r in rates:
            by_manager.setdefault(r.manager, {})[r.item_id] = r.pass_rate
        items = Table(
            name="item-pass-rates",
            columns=[
                Column("Manager", lambda r: r[0]),
                *[Column(item, lambda r, item=item: r[1].get(item), "percent") for item in item_ids],
            ],
            rows=sorted(by_manager.items()),
        )
        trend = report.team_trend
        trend_table = Table(
            name="trend",
            columns=[
                Column("Team", lambda p: p.series),
                Column("Day", lambda p: p.day, "date"),
                Column("Calls", lambda p: p.calls, "number"),
                Column("Average score", lambda p: p.average_score, "score"),
            ],
            rows=trend,
        )
        tables = {t.name: t for t in (managers, teams, items, trend_table)}
        if q.get("csv") in tables:
            return csv_response(tables[q["csv"]])
        calls_per_day: dict[str, list] = {}
        for p in trend:
            calls_per_day.setdefault(p.series, []).append((p.day, p.calls))
        return render(
            request,
            "kpis.html",
            user,
            managers=managers,
            teams=teams,
            items=items,
            score_chart=trend_chart(trend, "Average score per day, by team", (date_from, date_to)),
            volume_chart=line_chart(
                [Series(n, pts) for n, pts in calls_per_day.items()], title="Calls per day, by team", days=(date_from, date_to)
            ),
            date_from=date_from,
            date_to=date_to,
            team_id=team_id,
            team_choices=store.list_teams(session=session),
        )

    # -- agreement of reviewers with the automatic verdicts -------------------------------------

    @app.get("/agreement", response_class=HTMLResponse)
    def agreement(request: Request, user: UserRow = Depends(lead), session: Session = Depends(db)):
        table = Table(
            name="agreement",
            columns=[
                Column("Item", lambda r: r.item_id),
                Column("Reviewed", lambda r: r.reviewed, "number"),
                Column("Confirmed", lambda r: r.confirmed, "number"),
                Column("Overturned", lambda r: r.overturned, "number"),
                Column("Left as needs review", lambda r: r.unresolved, "number"),
                Column("Accuracy", lambda r: r.accuracy, "percent"),
                Column("Cohen's kappa", lambda r: r.kappa, "score"),
            ],
            rows=store.agreement(session=session),
        )
        if request.query_params.get("csv") == table.name:
            return csv_response(table)
        return render(request, "agreement.html", user, table=table)

    @app.get("/agreement/labelled.zip")
    def labelled_zip(user: UserRow = Depends(lead), session: Session = Depends(db)):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for data in store.labelled_transcripts(session=session):
                archive.writestr(f"labelled/{data['call_id']}.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return Response(
            buffer.getvalue(),
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="callqa-labelled.zip"'},
        )

    return app
