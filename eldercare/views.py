"""Core pages: home, login/logout, the health check, and what the phone's scripts ask the server:
the service worker's script (/sw.js) and the session check (/session/)."""

import time

from django.apps import apps
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
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


# Set on the CSRF failure page, so a script that posted a form can tell "the page's token is
# stale or the cookies are gone" (log in again or take a fresh token, then resend) from a 403
# that refuses the action.
CSRF_FAILURE_HEADER = "X-CSRF-Failure"


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the Chinese 'page expired' page in the site's layout; Django's reason
    (which names cookies and referers) is logged by Django, not shown."""
    response = render(request, "403_csrf.html", status=403)
    response[CSRF_FAILURE_HEADER] = "1"
    return response


SERVICE_WORKER = "eldercare/sw.js"


@public_view
def service_worker(request):
    """The service worker's script (static/eldercare/sw.js) at the site's root, so that its scope is
    the whole site (a script under /static/ could only control /static/). Re-checked on every
    load (`no-cache`), so a new version reaches the phones on their next visit online."""
    try:
        with staticfiles_storage.open(SERVICE_WORKER) as script:
            body = script.read()
    except FileNotFoundError:  # DEBUG without collectstatic: the file from the app folders
        path = finders.find(SERVICE_WORKER)
        if not path:
            raise Http404 from None
        with open(path, "rb") as script:
            body = script.read()
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@public_view
@never_cache
def session_status(request):
    """Is this browser signed in, as whom, and a CSRF token for its next post (setting the
    cookie if it is gone). The phone's scripts ask before resending a form after a login
    redirect or a CSRF failure, and after logging in again in place. Names no one: the user's
    number only, which the page already carries."""
    user = request.user
    return JsonResponse({"authenticated": user.is_authenticated,
                         "user": user.pk if user.is_authenticated else None,
                         "csrf": get_token(request)})


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
