"""Who is logged in, what they may do, and the CSRF token every form carries.

The session is a cookie signed by Starlette's SessionMiddleware (itsdangerous): it holds the
user's id and a random CSRF token, nothing else. A POST whose form token differs from the
session's is refused before its handler runs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from models import UserRow
from pipeline import store


class LoginRequired(Exception):
    """No valid session: the app answers with a redirect to the login page."""


def session_key(secret: str) -> str:
    """The cookie-signing key, derived so that it differs from the key of the phone hashes."""
    return hmac.new(secret.encode(), b"callqa review session", hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if token is None:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="The form has expired or did not come from this site; reload the page and try again.")


def db(request: Request):
    """One database session per request. Handlers commit themselves, before they answer:
    the exit of a dependency may run after the response is sent, and a browser that follows
    a redirect at once must find the change made."""
    with request.app.state.sessions() as session:
        yield session


def current_user(request: Request, session: Session = Depends(db)) -> UserRow:
    user_id = request.session.get("user_id")
    user = store.get_user(session=session, user_id=user_id) if isinstance(user_id, int) else None
    if user is None:
        request.session.pop("user_id", None)
        raise LoginRequired()
    return user


def lead(user: UserRow = Depends(current_user)) -> UserRow:
    """A quality lead or an admin; anyone else gets 403."""
    if user.role not in ("admin", "lead"):
        raise HTTPException(status_code=403, detail="This page is for quality leads.")
    return user
