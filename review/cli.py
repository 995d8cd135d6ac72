"""`callqa serve` and `callqa users`: the review app's commands, registered on the callqa group."""

from __future__ import annotations

import sys

import click

from pipeline.errors import CallQAError
from pipeline.settings import get_settings

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _sessions():
    from models import create_schema, make_engine, make_session_factory

    engine = make_engine(get_settings().resolved_database_url)
    create_schema(engine)
    return make_session_factory(engine)


@click.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Start the review web app: the quality lead's queue, call pages, manager feedback, KPIs.

    Create the first account with `callqa users add`. Put it behind an HTTPS proxy before
    exposing it beyond this machine.

    Example: callqa serve --host 0.0.0.0 --port 8000
    """
    import uvicorn

    from review.app import create_app

    settings = get_settings()
    try:
        app = create_app(
            sessions=_sessions(), secret_key=settings.resolved_secret_key(), scorecards_dir=settings.scorecards_dir,
            time_zone=settings.timezone,
        )
    except CallQAError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    click.echo(f"callqa review app on http://{host}:{port}/  (Ctrl+C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


@click.group(context_settings=CONTEXT)
def users() -> None:
    """Accounts of the review app: admin, lead (quality lead, head of sales) or manager.

    Example: echo "$PASSWORD" | callqa users add olga --role manager --manager m-17 --password-stdin
    """


@users.command("add", context_settings=CONTEXT)
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "lead", "manager"]), help="What the account may do.")
@click.option("--manager", "manager_id", help="For a manager: their manager id in the CRM sidecars.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def add_user(username: str, role: str, manager_id: str | None, password_stdin: bool) -> None:
    """Create an account; the password is asked for (or read from stdin), never given as an argument.

    Example: echo 's3cret-pass' | callqa users add anna --role manager --manager M-17 --password-stdin
    """
    from pipeline import store

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with _sessions().begin() as session:
            user = store.add_user(
                session=session, username=username, password=password, role=role, manager_external_id=manager_id
            )
            click.echo(f"added {user.username} ({user.role})")
    except CallQAError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
