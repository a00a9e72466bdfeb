"""The admin, scoped: one mixin applies the access rule to every admin page.

Every ModelAdmin registered in this project derives from `ScopedAdmin` (a test checks it).
"""

from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple, ForeignKeyRawIdWidget
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from eldercare.audit import history_of
from eldercare.choices import UserRole
from eldercare.models import AccessEvent, Area, Department, User
from eldercare.scoping import OutOfScope, ensure_in_scope

admin.site.site_header = _("农村留守老年人关爱服务系统")
admin.site.site_title = _("留守老人关爱")
admin.site.index_title = _("管理")
admin.site.disable_action("delete_selected")  # personal records change status, they are not deleted
admin.site.unregister(Group)  # one group per role, kept by migrations (eldercare.roles)


def boolean_icon(value):
    """Django's yes/no icon, whose alt text it writes in English ("True") whatever the language."""
    icon = {True: "yes", False: "no", None: "unknown"}[value]
    label = {True: _("是"), False: _("否"), None: _("未填")}[value]
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{icon}.svg"), label)


# The changelist and the read-only form fields both look the icon up here, at call time.
admin_list._boolean_icon = boolean_icon


def scoped_queryset(model, user):
    """`model`'s rows within reach of `user`; models without a scoped manager yield nothing."""
    manager = model._default_manager
    if hasattr(manager, "for_user"):
        return manager.for_user(user)
    return manager.none() if not user.is_superuser else manager.all()


def writable_queryset(model, user):
    """`model`'s rows `user` may change (in reach, and not a row reaching down from above)."""
    manager = model._default_manager
    if hasattr(manager, "writable_by"):
        return manager.writable_by(user)
    return scoped_queryset(model, user)


def in_queryset(queryset, field_name: str, values) -> bool:
    """All of `values` (raw strings from a URL or a form) name rows of `queryset`; a malformed
    value ("abc" for a numeric id) is simply not there."""
    values = {str(v) for v in values if str(v).strip()}
    if not values:
        return True
    try:
        return queryset.filter(**{f"{field_name}__in": values}).count() == len(values)
    except (ValueError, TypeError, ValidationError):
        return False


def add_refusal(form, error: ValidationError) -> None:
    """Put a service's ValidationError on `form`: on the fields it names that the form shows,
    the rest above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """The raw-id box names the chosen row only when it is within the user's reach: an id typed
    into the URL (?elder=123) or the form of a row out of reach shows nothing, as if it did not exist."""

    def __init__(self, rel, admin_site, queryset, **kwargs):
        super().__init__(rel, admin_site, **kwargs)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        if not in_queryset(self.queryset, key, [value]):
            return "", ""
        return super().label_and_url_for_value(value)


class WellFormedValues:
    """An autocomplete box that drops a submitted value which cannot be an id ("abc"), instead of
    handing it to the database (a 500); the field itself says the choice is invalid."""

    def optgroups(self, name, value, attr=None):
        target = self.field.remote_field.model._meta.get_field(
            getattr(self.field.remote_field, "field_name", None) or self.field.remote_field.model._meta.pk.name)
        valid = []
        for item in value:
            try:
                target.to_python(item)
            except ValidationError:
                continue
            valid.append(item)
        return super().optgroups(name, valid, attr)


class ScopedAutocompleteSelect(WellFormedValues, AutocompleteSelect):
    pass


class ScopedAutocompleteSelectMultiple(WellFormedValues, AutocompleteSelectMultiple):
    pass


class ScopedFormFieldsMixin:
    """FK and M2M choices (selects, raw ids and autocompletes) limited to what the user may see."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", scoped_queryset(db_field.related_model, request.user))
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ScopedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and isinstance(formfield.widget, ForeignKeyRawIdWidget):
            widget = formfield.widget
            formfield.widget = ScopedRawIdWidget(widget.rel, widget.admin_site, kwargs["queryset"],
                                                 attrs=widget.attrs, using=widget.db)
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", scoped_queryset(db_field.related_model, request.user))
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ScopedAutocompleteSelectMultiple(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request):
        qs = scoped_queryset(self.model, request.user)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs


class ScopedAdmin(ScopedFormFieldsMixin, admin.ModelAdmin):
    """Base of every ModelAdmin: changelist, change form, FK choices, autocomplete, related
    list filters, actions, history and delete all go through `.for_user()`.

    Out of scope is a 404 (never the admin's "does not exist" redirect, never 403), and a save
    is re-checked against the user's scope inside the admin's transaction.
    """

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    history_template = "admin/eldercare/history.html"
    recorded_by_field: str | None = None  # a field that takes the staff member who adds the row

    def get_list_filter(self, request):
        # A plain relation filter lists every row of the related table; limit it to values
        # present in the (scoped) changelist.
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.is_relation:
                    item = (item, RelatedOnlyFieldListFilter)
            filters.append(item)
        return filters

    def lookup_allowed(self, lookup, value, request=None):
        """Only the lookups of the filters this admin shows the user (an id_number__startswith
        or a filter on a fact the role may not see is refused, here and in the export)."""
        return lookup in self.allowed_lookups(request)

    def allowed_lookups(self, request) -> set[str]:
        allowed = set()
        if self.date_hierarchy:
            allowed |= {f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        for item in self.get_list_filter(request) if request is not None else self.list_filter:
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
                allowed.add(item.parameter_name)
                continue
            path = item[0] if isinstance(item, (list, tuple)) else item
            allowed |= {f"{path}__exact", f"{path}__isnull", f"{path}__gte", f"{path}__lt"}
            field = admin.utils.get_fields_from_path(self.model, path)[-1]
            if field.is_relation:
                allowed.add(f"{path}{LOOKUP_SEP}{field.target_field.name}__exact")
        return allowed

    def get_changeform_initial_data(self, request):
        """Prefill from the URL (?elder=12) only with rows within reach; a value out of reach or
        malformed is dropped as if that row did not exist."""
        initial = super().get_changeform_initial_data(request)
        for name, value in list(initial.items()):
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                del initial[name]
                continue
            if field.is_relation:
                values = value if isinstance(value, list) else [value]
                target = field.target_field.name
                if not in_queryset(scoped_queryset(field.related_model, request.user), target, values):
                    del initial[name]
        return initial

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or self.is_writable(request, obj)

    def is_writable(self, request, obj) -> bool:
        """A row in reach may still be read-only: one that reaches down from a level above."""
        return writable_queryset(self.model, request.user).filter(pk=obj.pk).exists()

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # 403 would tell that the page exists for someone; out of reach is always 404.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            # The service refused the write (a rule it checks in its transaction, or a race lost
            # to another session): the transaction is rolled back; answer the form again with
            # the message and the user's input, as the pages do.
            if request.method != "POST" or hasattr(request, "refused_write"):
                raise
            request.refused_write = error
            return self.changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refused = getattr(request, "refused_write", None)
        if refused is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                add_refusal(self, refused)
                return cleaned

        return RefusedForm

    def write(self, request, obj, form, change):
        """Store `obj`: an app's admin calls its service function here (the pages' write path)."""
        obj.save()

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except PermissionDenied:
            raise Http404 from None

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except PermissionDenied:
            raise Http404 from None

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if self.recorded_by_field and not change:
            setattr(obj, self.recorded_by_field, request.user)
        self.write(request, obj, form, change)
        ensure_in_scope(obj, request.user)  # OutOfScope is a 404; the admin's transaction rolls back
        if not self.is_writable(request, obj):
            raise OutOfScope(f"{obj._meta.label} {obj.pk} is not writable by {request.user}")

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "title": _("变更历史：%s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "events": history_of(obj)[:200],
            "can_see_history": request.user.is_superuser or request.user.role in (UserRole.TOWN, UserRole.COUNTY),
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.history_template, context)


class ScopedInline(ScopedFormFieldsMixin, admin.TabularInline):
    """Inline rows and their FK choices, scoped like their parent admin."""

    extra = 0

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Area)
class AreaAdmin(ScopedAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    ordering = ["code"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Department)
class DepartmentAdmin(ScopedAdmin):
    list_display = ["name", "kind", "town", "phone", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]


class StaffForm(forms.ModelForm):
    """Account form for town and county staff: a role no higher than their own, inside their area."""

    password1 = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, required=False,
                                help_text=_("新建账号必填；至少 12 位，不能是常见密码。"))

    class Meta:
        model = User
        fields = ["username", "real_name", "phone", "role", "area", "department", "is_active"]

    def __init__(self, *args, acting_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.acting_user = acting_user
        if acting_user is not None and not acting_user.is_superuser:
            self.fields["role"].choices = [(r.value, r.label) for r in UserRole if acting_user.can_grant(r)]

    def clean_role(self):
        role = self.cleaned_data["role"]
        if self.acting_user is not None and not self.acting_user.can_grant(role):
            raise ValidationError(_("您不能授予该角色。"))
        return role

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("password1"):
            self.add_error("password1", _("新建账号请设置初始密码。"))
        elif cleaned.get("password1"):
            from django.contrib.auth.password_validation import validate_password

            try:
                validate_password(cleaned["password1"], self.instance)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("password1"):
            user.set_password(self.cleaned_data["password1"])
        user.is_staff = True
        if commit:
            user.save()
            self.save_m2m()
        return user


@admin.register(User)
class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    """Town staff manage the accounts of their own town; county staff those of the county."""

    list_display = ["username", "real_name", "role", "area", "department", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "real_name"]
    ordering = ["username"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("角色与区划"), {"fields": ["role", "area", "department", "real_name", "phone"]}),
    )
    staff_fieldsets = [(None, {"fields": ["username", "password1", "real_name", "phone", "role", "area",
                                          "department", "is_active"]})]

    def get_fieldsets(self, request, obj=None):
        # Maintainers (superusers) keep Django's own user pages; staff get the narrow form.
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.staff_fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if request.user.is_superuser:
            return super().get_form(request, obj, **kwargs)
        kwargs.update(form=StaffForm, fields=None)
        form_class = admin.ModelAdmin.get_form(self, request, obj, **kwargs)

        class BoundStaffForm(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, acting_user=request.user, **kw)

        return BoundStaffForm

    def has_add_permission(self, request):
        return request.user.is_superuser or request.user.role in (UserRole.TOWN, UserRole.COUNTY)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if request.user.role not in (UserRole.TOWN, UserRole.COUNTY):
            return False
        # Nobody edits an account whose role they could not grant (their own, or their peers').
        return obj is None or request.user.can_grant(obj.role)


@admin.register(AccessEvent)
class AccessEventAdmin(ScopedAdmin):
    list_display = ["at", "user", "kind", "object_type", "object_id", "field"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

