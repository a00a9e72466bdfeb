"""The admin, scoped: one mixin applies the access rule to every admin page.

Every ModelAdmin registered in this project derives from `ScopedAdmin` (a test checks it).
"""

from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from eldercare.audit import history_of
from eldercare.choices import UserRole
from eldercare.models import AccessEvent, Area, Department, User
from eldercare.scoping import ensure_in_scope

admin.site.site_header = _("农村留守老年人关爱服务系统")
admin.site.site_title = _("留守老人关爱")
admin.site.index_title = _("管理")
admin.site.disable_action("delete_selected")  # personal records change status, they are not deleted
admin.site.unregister(Group)  # one group per role, kept by migrations (eldercare.roles)


def scoped_queryset(model, user):
    """`model`'s rows within reach of `user`; models without a scoped manager yield nothing."""
    manager = model._default_manager
    if hasattr(manager, "for_user"):
        return manager.for_user(user)
    return manager.none() if not user.is_superuser else manager.all()


class ScopedFormFieldsMixin:
    """FK and M2M choices (selects and autocompletes) limited to what the user may see."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", scoped_queryset(db_field.related_model, request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("queryset", scoped_queryset(db_field.related_model, request.user))
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

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # 403 would tell that the page exists for someone; out of reach is always 404.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PermissionDenied:
            raise Http404 from None

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
        super().save_model(request, obj, form, change)
        ensure_in_scope(obj, request.user)  # OutOfScope is a 404; the admin's transaction rolls back

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

