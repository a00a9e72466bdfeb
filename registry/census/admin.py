"""The census import's admin page: the jobs, read-only and scoped (imports are made through the
import pages); the task queue's own unscoped admin is removed."""

from django.contrib import admin

from eldercare.admin import ScopedAdmin

from .models import CensusImport

# The queue's own admin lists every job's arguments unscoped; the import pages show the jobs.
try:
    from django_tasks_db.models import DBTaskResult

    admin.site.unregister(DBTaskResult)
except (ImportError, admin.sites.NotRegistered):
    pass


@admin.register(CensusImport)
class CensusImportAdmin(ScopedAdmin):
    """Read-only: imports are created, run and cancelled through the import pages."""

    list_display = ["file_name", "uploaded_by", "created_at", "status", "new_count", "updated_count",
                    "unchanged_count", "rejected_count"]
    list_filter = ["status"]
    # Storage paths and worker details are internal: never shown.
    fields = readonly_fields = [f.name for f in CensusImport._meta.fields
                                if f.name not in ("id", "stored_path", "rejected_path", "worker_pid", "worker_host")]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
