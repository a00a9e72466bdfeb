"""Template context shared by every page."""

from django.apps import apps
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string


def navigation(request):
    """The navigation menu for the user's role.

    Each app's AppConfig lists `nav_items` as (label, url name, roles[, badge]); `badge` is the
    dotted path of a function `(request) -> int` (a count shown beside the label, e.g. visits
    due). The core reads them from the app registry, so it never imports a domain app.
    """
    # Lazy: admin pages and JSON-ish responses never render the menu, so never count its badges.
    return {"nav_items": SimpleLazyObject(lambda: _nav_items(request))}


def _nav_items(request) -> list:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = []
    for config in apps.get_app_configs():
        for label, url_name, roles, *badge in getattr(config, "nav_items", ()):
            if user.is_superuser or user.role in roles:
                url = reverse(url_name)
                items.append({
                    "label": label,
                    "url": url,
                    "active": request.path == url or (url != "/" and request.path.startswith(url)),
                    "badge": import_string(badge[0])(request) if badge else None,
                })
    return items
