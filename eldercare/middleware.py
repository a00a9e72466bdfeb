"""Session limits beyond Django's idle timeout."""

import time

import pghistory.middleware
from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

LOGIN_AT_KEY = "eldercare_login_at"


class SessionLimitMiddleware:
    """End a session 12 hours after login however active it is (the idle limit is the cookie age)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.setdefault(LOGIN_AT_KEY, time.time())
            if time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect(settings.LOGIN_URL)
        return self.get_response(request)


class HistoryMiddleware(pghistory.middleware.HistoryMiddleware):
    """Attach who made a change (id and username) and where (URL) to every audited write."""

    def get_context(self, request):
        context = super().get_context(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            context["username"] = request.user.get_username()
        return context
