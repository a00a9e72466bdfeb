"""Response headers that keep personal data out of caches and script out of pages.

- `Cache-Control: no-store, private` (Django's never-cache set) on every response to a signed-in
  user and on every download (`Content-Disposition: attachment`): a shared office computer's
  browser cache, a proxy or the back button must not keep a page of elders, an export or a scan.
- `Content-Security-Policy` on every response: scripts only from the site's own files (no inline
  script, no inline event handlers, no eval), nothing framed, forms posting only to the site.
  Service workers and their fetches stay on the site (`worker-src 'self'`, `connect-src 'self'`).
  Inline style *attributes* are allowed (`style-src-attr`): the census progress bar and Django's
  admin set widths that way; they cannot run code. Django's admin (5.2) needs nothing more: its
  scripts are files, its data blocks `<script type="application/json">`, which CSP does not run.

Django 5.2 has no CSP of its own; this is one header, so a package (django-csp) would add a
dependency for a line of configuration.
"""

from django.conf import settings
from django.utils.cache import add_never_cache_headers

DEFAULT_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_header(policy: dict) -> str:
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


class SecurityHeadersMiddleware:
    """Adds Cache-Control for personal data and the Content-Security-Policy (see the module doc)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = policy_header({**DEFAULT_POLICY, **getattr(settings, "CONTENT_SECURITY_POLICY", {})})

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        personal = (user is not None and user.is_authenticated) or \
            response.get("Content-Disposition", "").startswith("attachment")
        if personal:
            add_never_cache_headers(response)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
