"""The access log for the office (访问记录): who revealed, exported or downloaded what, and when.

Town and county staff read the access events of their jurisdiction (`AccessEvent.objects.for_user`:
an event belongs to the area code it was recorded with — the elder's village for a reveal or a
download, the exporting user's jurisdiction for an export), filtered by account, kind and date,
50 to a page. Above the list, the week's unusual access: accounts with at least
ACCESS_UNUSUAL_WEEKLY reveals and exports together in the last 7 days (docs/access.md, "The
access log").
"""

from datetime import timedelta

from django import forms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eldercare.access import scoped_view
from eldercare.choices import AccessEventKind, UserRole
from eldercare.models import AccessEvent, User

ROLES = (UserRole.TOWN, UserRole.COUNTY)
PAGE_SIZE = 50
UNUSUAL_DAYS = 7
# Words for the fields a reveal or download names that are no model field of their object.
FIELD_LABELS = {"phone": gettext_lazy("电话"), "phones": gettext_lazy("电话"),
                "rejected_rows": gettext_lazy("未导入的行"), "document": gettext_lazy("协议扫描件")}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class AccessLogFilter(forms.Form):
    """The log's filters; the account list holds only accounts the reader may see."""

    user = forms.ModelChoiceField(label=gettext_lazy("操作人"), queryset=User.objects.none(), required=False,
                                  empty_label=gettext_lazy("全部操作人"))
    kind = forms.ChoiceField(label=gettext_lazy("类型"), required=False,
                             choices=[("", gettext_lazy("全部类型")), *AccessEventKind.choices])
    since = forms.DateField(label=gettext_lazy("从"), required=False, widget=DateInput())
    until = forms.DateField(label=gettext_lazy("到"), required=False, widget=DateInput())

    def __init__(self, *args, reader, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (User.objects.for_user(reader).filter(is_active=True)
                                        .order_by("area_id", "username").only("id", "username", "real_name"))

    def filter(self, events):
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("user"):
            events = events.filter(user=data["user"])
        if data.get("kind"):
            events = events.filter(kind=data["kind"])
        if data.get("since"):
            events = events.filter(at__date__gte=data["since"])
        if data.get("until"):
            events = events.filter(at__date__lte=data["until"])
        return events


def unusual_access(events, now=None):
    """Accounts with ACCESS_UNUSUAL_WEEKLY or more reveals and exports (together) in the last 7 days
    among `events`, most first: one grouped query."""
    now = now or timezone.now()
    reveal, export = Q(kind=AccessEventKind.REVEAL), Q(kind=AccessEventKind.EXPORT)
    return list(events.filter(at__gte=now - timedelta(days=UNUSUAL_DAYS)).filter(reveal | export)
                .values("user_id", "user__username", "user__real_name")
                .annotate(total=Count("id"), reveals=Count("id", filter=reveal), exports=Count("id", filter=export),
                          id_reveals=Count("id", filter=reveal & Q(field__contains="id_number")))
                .filter(total__gte=settings.ACCESS_UNUSUAL_WEEKLY)
                .order_by("-total", "user__username"))


def describe(event) -> str:
    """What the event touched, in words: the kind of object and its number, the field, the export's
    rows and whether they were masked, the reason of an ID change."""
    parts = []
    try:
        model = apps.get_model(event.object_type) if event.object_type else None
    except (LookupError, ValueError):
        model = None
    if model is not None:
        parts.append(f"{model._meta.verbose_name} #{event.object_id}")
    if event.field:
        parts.append("、".join(str(field_label(model, name)) for name in event.field.split(",")))
    detail = event.detail or {}
    if detail.get("action") == "change":
        parts.append(_("修改：%s") % detail.get("reason", ""))
    if "rows" in detail:
        parts.append(_("%s 行") % detail["rows"])
    if "masked" in detail:
        parts.append(_("号码已遮挡") if detail["masked"] else _("完整号码"))
    filters = {k: v for k, v in (detail.get("filters") or {}).items() if v not in ("", None)}
    if filters:
        parts.append(_("条件：%s") % " ".join(f"{k}={v}" for k, v in sorted(filters.items())))
    return " · ".join(parts)


def field_label(model, name):
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    try:
        return model._meta.get_field(name).verbose_name if model is not None else name
    except FieldDoesNotExist:
        return name


@scoped_view(roles=ROLES)
def access_log(request):
    """The office's access log: the week's unusual access, then every event in reach, newest first."""
    reader = request.user
    events = AccessEvent.objects.for_user(reader)
    form = AccessLogFilter(request.GET or None, reader=reader)
    listed = form.filter(events).select_related("user").order_by("-at", "-id")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page:
        event.description = describe(event)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "eldercare/access_log.html", {
        "form": form, "page": page, "params": params.urlencode(), "unusual": unusual_access(events),
        "threshold": settings.ACCESS_UNUSUAL_WEEKLY, "days": UNUSUAL_DAYS,
    })
