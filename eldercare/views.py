"""Core pages: home, login/logout and the health check."""

import time

from django.apps import apps
from django.contrib.auth import views as auth_views
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from eldercare.access import PUBLIC, public_view, scoped_view
from eldercare.middleware import LOGIN_AT_KEY
from eldercare.panels import collect_panels


def landing_page(user) -> str | None:
    """The URL name of the page a role starts its work on, if an app declares one.

    An app declares `landing_pages = {role: "url name"}` in its AppConfig; the first app (in
    INSTALLED_APPS order) that names the user's role wins.
    """
    for config in apps.get_app_configs():
        name = getattr(config, "landing_pages", {}).get(user.role)
        if name:
            return name
    return None


@scoped_view()
def home(request):
    """The landing page. A role whose work has a page of its own (`landing_pages`) goes there;
    the others get their menu as big buttons and the panels apps add (`home_panels`, functions
    `(request) -> Panel | None`)."""
    if not request.user.is_superuser and (target := landing_page(request.user)):
        return redirect(target)
    return render(request, "eldercare/home.html", {"panels": collect_panels("home_panels", request)})


@public_view
@never_cache
def health(request):
    """Liveness and database check for the load balancer: 200 {"status": "ok"}, or 503 when the
    database does not answer (the balancer then sends no users to this process)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the Chinese 'page expired' page in the site's layout; Django's reason
    (which names cookies and referers) is logged by Django, not shown."""
    return render(request, "403_csrf.html", status=403)


class LoginView(auth_views.LoginView):
    """Login; the session key is rotated by Django and the login time starts the 12-hour limit."""

    access = PUBLIC
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session[LOGIN_AT_KEY] = time.time()
        return response


class LogoutView(auth_views.LogoutView):
    access = PUBLIC
