"""Core pages: home, login/logout and the health check."""

import time

from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from eldercare.access import PUBLIC, public_view, scoped_view
from eldercare.middleware import LOGIN_AT_KEY


@scoped_view()
def home(request):
    """The landing page: the role's menu as big buttons (each app adds its own entries)."""
    return render(request, "eldercare/home.html")


@public_view
@never_cache
def health(request):
    """Liveness and database check for the load balancer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


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
