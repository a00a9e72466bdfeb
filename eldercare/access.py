"""How a view declares that it obeys the access rule, and the mixins that make it so.

The URL walk (tests/eldercare/test_url_walk.py) fails on any view that declares neither
`access = "scoped"` nor `access = "public"`; the permission-matrix tests then check that the
scoped ones really answer 404 out of scope.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import Http404

from eldercare.scoping import ensure_in_scope

PUBLIC = "public"
SCOPED = "scoped"


def public_view(view):
    """Mark a function view as reachable without the access rule (login, health …)."""
    view.access = PUBLIC
    return view


def scoped_view(*, roles=None):
    """Decorator for function views: login required, optional role list, declared scoped.

    The view itself must read data through `.for_user(request.user)`; a role outside `roles`
    gets 404 like anything else out of reach.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if roles is not None and not request.user.is_superuser and request.user.role not in roles:
                raise Http404
            return view(request, *args, **kwargs)

        wrapped = login_required(wrapper)
        wrapped.access = SCOPED
        return wrapped

    return decorator


class ScopedViewMixin(LoginRequiredMixin):
    """Base of every class-based view that shows or changes domain data.

    `get_queryset()` is the model's scoped queryset for the user, so a detail view of an object
    out of reach is a 404 and a list shows only rows in reach. `roles` limits the view to some
    roles (others get 404). Saving forms goes through `save_form_in_scope`.
    """

    access = SCOPED
    roles = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.roles is not None and not request.user.is_superuser and request.user.role not in self.roles:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.model.objects.for_user(self.request.user)

    def save_form_in_scope(self, form):
        """Save and re-check scope in one transaction; a write that escapes scope is a 404."""
        return save_in_scope(form, self.request.user)


def save_in_scope(form, user):
    """Save `form` and re-check the object against `user`'s scope in one transaction.

    A write that would leave the user's reach raises OutOfScope (a 404) and is rolled back.
    """
    with transaction.atomic():
        obj = form.save()
        ensure_in_scope(obj, user)
    return obj
