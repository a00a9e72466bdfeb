"""Template context shared by every page."""

from django.apps import apps
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string

DEFAULT_RANK = 50
BADGES_KEY = "eldercare_nav_badges"


def navigation(request):
    """The navigation menu for the user's role.

    Each app's AppConfig lists `nav_items` as (label, url name, roles[, badge[, rank]]); `badge`
    is the dotted path of a function `(request) -> int` (a count shown beside the label, e.g.
    visits due) or None; `rank` orders the menu by how often the role uses the page (lower comes
    first; an int, or {role: int} where roles differ; DEFAULT_RANK when left out). The core reads
    them from the app registry, so it never imports a domain app.
    """
    # Lazy: admin pages and JSON-ish responses never render the menu, so never count its badges.
    return {"nav_items": SimpleLazyObject(lambda: _nav_items(request)),
            "session_seconds_left": SimpleLazyObject(lambda: _session_seconds_left(request))}


def _session_seconds_left(request):
    from eldercare.middleware import session_seconds_left

    return session_seconds_left(request) if getattr(request, "user", None) and request.user.is_authenticated else ""


def _nav_items(request) -> list:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    from eldercare.views import landing_page

    # Home sends a role with a landing page there: a 首页 item would be a second 今日待访.
    skip = "home" if not user.is_superuser and landing_page(user) else None
    items = []
    for config in apps.get_app_configs():
        for label, url_name, roles, *extra in getattr(config, "nav_items", ()):
            if url_name != skip and (user.is_superuser or user.role in roles):
                badge, rank = (*extra, None, DEFAULT_RANK)[:2]
                if isinstance(rank, dict):
                    rank = rank.get(user.role, DEFAULT_RANK)
                url = reverse(url_name)
                items.append({
                    "label": label,
                    "url": url,
                    "active": request.path == url or (url != "/" and request.path.startswith(url)),
                    "badge": _badge(request, badge) if badge else None,
                    "rank": rank,
                })
    items.sort(key=lambda item: item["rank"])  # stable: equal ranks keep the apps' order
    return items


def _badge(request, path: str) -> int:
    """The count of the badge function at dotted `path`, kept in the user's own session.

    Counting every badge again on every page cost a query each. The counts are kept in the
    session (the user's own, never a cache shared between users) until SessionLimitMiddleware
    drops them: when the session is renewed, at most a minute later, and on every request that
    may change data (anything but GET/HEAD), so users see their own changes at once and their
    colleagues' within a minute.
    """
    session = getattr(request, "session", None)
    if session is None:
        return import_string(path)(request)
    badges = session.get(BADGES_KEY, {})
    if path not in badges:
        badges[path] = import_string(path)(request)
        session[BADGES_KEY] = badges  # marks the session modified: saved with the counts
    return badges[path]
