"""URLconf: the core's pages, the admin, and each domain app under its own prefix.

This is the one place the core imports domain apps (DESIGN.md §3).
"""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from eldercare import access_log, views
from eldercare.access import public_view

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("health/", views.health, name="health"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("session/", views.session_status, name="session_status"),
    path("access-log/", access_log.access_log, name="access_log"),
    path("i18n/setlang/", public_view(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("registry/census/", include("registry.census.urls")),
    path("registry/", include("registry.urls")),
    path("visits/", include("visits.urls")),
    path("relief/", include("relief.urls")),
    path("services/", include("services.urls")),
    path("oversight/", include("oversight.urls")),
]
