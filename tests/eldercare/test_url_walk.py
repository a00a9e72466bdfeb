"""Deny by default: every URL is either declared scoped or on a short public allow-list."""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path

from eldercare.access import PUBLIC, SCOPED
from eldercare.admin import ScopedAdmin

PUBLIC_ALLOW_LIST = {"login", "logout", "health", "set_language", "service_worker", "session_status"}


def walk(patterns, prefix=""):
    """Yield (route, url name, callback) for every URL pattern, descending into includes."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # the admin is checked model by model below
            namespace = f"{pattern.namespace}:" if pattern.namespace else ""
            for route, name, callback in walk(pattern.url_patterns, prefix + str(pattern.pattern)):
                yield route, (namespace + name) if name else name, callback
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, pattern.callback


def access_of(callback):
    view_class = getattr(callback, "view_class", None)
    return getattr(callback, "access", None) or getattr(view_class, "access", None)


def unguarded_views(patterns):
    """Routes whose view declares no access, or declares public without being allow-listed."""
    problems = []
    for route, name, callback in walk(patterns):
        access = access_of(callback)
        if access == SCOPED:
            continue
        if access == PUBLIC and name in PUBLIC_ALLOW_LIST:
            continue
        problems.append(f"{route} ({name}): access={access!r}")
    return problems


def test_every_url_is_scoped_or_allow_listed_public():
    assert unguarded_views(get_resolver().url_patterns) == []


def test_walk_catches_a_view_that_forgot_its_scope():
    def careless(request):
        return HttpResponse("all the elders")

    def sneaky(request):
        return HttpResponse("public, but not allow-listed")

    sneaky.access = PUBLIC
    fake = [path("careless/", careless, name="careless"), path("sneaky/", sneaky, name="sneaky")]
    problems = unguarded_views(get_resolver().url_patterns + fake)
    assert problems == ["careless/ (careless): access=None", "sneaky/ (sneaky): access='public'"]


def test_every_admin_is_a_scoped_admin():
    unscoped = [model._meta.label for model, model_admin in admin.site._registry.items()
                if not isinstance(model_admin, ScopedAdmin)]
    assert unscoped == []


def test_every_model_registered_in_admin_has_a_scoped_manager():
    unscoped = [model._meta.label for model in admin.site._registry
                if not hasattr(model._default_manager, "for_user")]
    assert unscoped == []
