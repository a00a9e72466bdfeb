"""The access rule (DESIGN.md §3): jurisdiction by area-code prefix, narrowed by role.

Every domain model's default manager is built from `ScopedQuerySet`; views, admin, exports,
dashboards and imports read data only through `.for_user(user)`.
"""

from django.db import models
from django.http import Http404

from eldercare.choices import UserRole


def jurisdiction_prefix(user) -> str | None:
    """The area-code prefix a user's jurisdiction covers; None when they may see nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ""
    area = user.area
    return area.code if area is not None else None


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows where its rows live.

    Subclasses set `area_path`, the lookup from a row to the 12-digit (or shorter) area code it
    belongs to, and may override `restrict_role` to narrow rows further by role (clinic and
    department officers see less than their area alone would allow).
    """

    area_path = "village__code"

    def for_user(self, user):
        prefix = jurisdiction_prefix(user)
        if prefix is None:
            return self.none()
        if prefix == "":
            return self.all()
        return self.restrict_role(self.filter(self.jurisdiction_q(prefix)), user)

    def jurisdiction_q(self, prefix: str) -> models.Q:
        """Rows within the jurisdiction `prefix`: their area code starts with it."""
        return models.Q(**{f"{self.area_path}__startswith": prefix})

    def restrict_role(self, queryset, user):
        """Narrow `queryset` (already limited to the user's area) by the user's role."""
        return queryset

    def writable_by(self, user):
        """Rows `user` may change: those in reach, less any row that only reaches down to them
        from a level above (see `ReachingUpQuerySet`)."""
        return self.for_user(user)


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


def ancestor_codes(code: str) -> list[str]:
    """The county and town codes above (and including) an area code: '511529100201' → 3 codes."""
    return [code[:n] for n in (6, 9, 12) if n <= len(code)]


class ReachingUpQuerySet(ScopedQuerySet):
    """Rows attached to an area that serve everything below it (a town's catalogue, a provider,
    a care home that takes in the town's elders).

    In scope when the row's area code is a prefix of the user's area code (a village user sees
    what serves their town) OR starts with the user's prefix (a town user sees its villages').
    """

    area_path = "area__code"
    hidden_from_roles = (UserRole.DEPARTMENT,)

    def jurisdiction_q(self, prefix):
        return super().jurisdiction_q(prefix) | models.Q(**{f"{self.area_path}__in": ancestor_codes(prefix)})

    def restrict_role(self, queryset, user):
        return queryset.none() if user.role in self.hidden_from_roles else queryset

    def writable_by(self, user):
        # A county item or provider serves a town, but only the county changes it.
        prefix = jurisdiction_prefix(user)
        if prefix is None:
            return self.none()
        return self.for_user(user).filter(ScopedQuerySet.jurisdiction_q(self, prefix))


class OutOfScope(Http404):
    """A write would have put a record outside the acting user's jurisdiction.

    An Http404: raised inside a view's transaction it rolls the write back and answers 404
    (never 403), with no try/except in the view.
    """


def ensure_in_scope(obj, user):
    """Re-check, inside the current transaction, that `obj` is still within `user`'s reach.

    Called after every save made on behalf of a user: the transaction rolls back when the
    saved row would leave the user's scope (moved to another village) or enter another's.
    """
    if not type(obj)._default_manager.for_user(user).filter(pk=obj.pk).exists():
        raise OutOfScope(f"{obj._meta.label} {obj.pk} is outside the jurisdiction of {user}")
