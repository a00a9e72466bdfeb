"""Session limits (idle and absolute) and the audit context of every request."""

import time

import pghistory.middleware
from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

from eldercare.context_processors import BADGES_KEY

LOGIN_AT_KEY = "eldercare_login_at"
RENEWED_AT_KEY = "eldercare_renewed_at"
SAFE_METHODS = ("GET", "HEAD")


class SessionLimitMiddleware:
    """End a session 12 hours after login however active it is, and keep the idle limit moving.

    The idle limit is the session's expiry (SESSION_COOKIE_AGE after it was last saved). A
    request renews it when the last renewal is SESSION_RENEW_SECONDS old or more, so an active
    session stays open while its row is written at most once a minute, not on every page. The
    menu's badge counts kept in the session (eldercare.context_processors) are dropped then, and
    by any request that may change data.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            if now - session.setdefault(LOGIN_AT_KEY, now) > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect(settings.LOGIN_URL)
            if now - session.get(RENEWED_AT_KEY, 0) >= settings.SESSION_RENEW_SECONDS:
                session[RENEWED_AT_KEY] = now  # modified: saved with a new expiry
                session.pop(BADGES_KEY, None)  # and the menu's counts taken afresh
            elif request.method not in SAFE_METHODS:
                session.pop(BADGES_KEY, None)  # the user may change what they count
        return self.get_response(request)


def session_seconds_left(request) -> int:
    """Seconds until this session ends if nothing else happens: the idle limit (renewed by this
    request at most once a minute, so counted from the last renewal) or the 12-hour limit,
    whichever comes first. Pages carry it (`data-idle`), so static/eldercare/session.js knows
    when a form may meet an expired session and must check before sending."""
    session = request.session
    now = time.time()
    idle = settings.SESSION_COOKIE_AGE - (now - session.get(RENEWED_AT_KEY, now))
    absolute = settings.SESSION_ABSOLUTE_SECONDS - (now - session.get(LOGIN_AT_KEY, now))
    return int(max(0, min(idle, absolute)))


class HistoryMiddleware(pghistory.middleware.HistoryMiddleware):
    """Attach who made a change (id and username) and where (URL) to every audited write."""

    def get_context(self, request):
        context = super().get_context(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            context["username"] = request.user.get_username()
        return context
