"""Census import pages: template, upload + history, preview/progress/result, confirm, cancel,
progress JSON, rejected-rows download. Every import is read through CensusImport.objects.for_user."""

import io
import os
import random

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from eldercare.access import scoped_view
from eldercare.audit import record_access
from eldercare.choices import AreaLevel, UserRole
from eldercare.models import Area

from . import services
from .choices import CensusImportStatus as S
from .models import CensusImport, IllegalTransition
from .preview import page
from .template import write_template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VIEW_ROLES = (UserRole.COUNTY, UserRole.TOWN, UserRole.VILLAGE)


def _get(request, pk) -> CensusImport:
    job = get_object_or_404(CensusImport.objects.for_user(request.user).select_related("uploaded_by"), pk=pk)
    if job.is_active and services.refresh_stale(CensusImport.objects.filter(pk=job.pk)):
        job.refresh_from_db()
    return job


@scoped_view(roles=VIEW_ROLES)
def template_download(request):
    """The blank survey template (.xlsx), its 乡镇 and 村（社区） lists the user's own."""
    villages = list(Area.objects.for_user(request.user).filter(level=AreaLevel.VILLAGE).order_by("code")
                    .values_list("name", "parent__name"))
    out = io.BytesIO()
    write_template(out, towns=list(dict.fromkeys(town for _, town in villages)),
                   villages=[name for name, _ in villages])
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E8%B0%83%E6%9F%A5%E8%A1%A8%E6%A8%A1%E6%9D%BF.xlsx"
    return response


@scoped_view(roles=VIEW_ROLES)
def imports(request):
    """Import history within reach, and (town and village staff) the upload form."""
    can_import = services.can_import(request.user)
    error = None
    if request.method == "POST":
        if not can_import:
            raise Http404
        try:
            job = services.store_upload(request.FILES.get("file"), acting_user=request.user,
                                        sheet=request.POST.get("sheet", "").strip())
            services.start_preview(job, acting_user=request.user)
        except services.CensusUploadError as refused:
            error = str(refused)
        else:
            if random.random() < 0.05:  # opportunistic retention sweep (also a management command)
                services.purge_census_uploads()
            return redirect("census:detail", pk=job.pk)
    services.refresh_stale(CensusImport.objects.for_user(request.user))
    history = CensusImport.objects.for_user(request.user).select_related("uploaded_by")[:50]
    return render(request, "census/imports.html", {
        "history": history, "can_import": can_import, "error": error,
        "max_mb": services.settings.CENSUS_MAX_UPLOAD_BYTES // (1024 * 1024),
    }, status=400 if error else 200)


@scoped_view(roles=VIEW_ROLES)
def detail(request, pk):
    """One import: its preview (counts, rejected rows, the rows it adds, each update's old → new,
    a page of each at a time), progress, or result."""
    job = _get(request, pk)
    preview = job.preview or {}
    lists = {}
    for kind in ("new", "updated"):
        number = _page_number(request.GET.get(kind))
        entries, pages = page(preview.get("details"), kind, number)
        lists[kind] = {"entries": entries, "pages": pages, "number": min(number, pages),
                       "previous": _page_url(request, kind, number - 1) if number > 1 else "",
                       "next": _page_url(request, kind, number + 1) if number < pages else ""}
    return render(request, "census/detail.html", {
        "job": job, "preview": preview, "S": S, "lists": lists,
        "can_write": services.can_import(request.user),
        "nothing_to_write": job.status == S.PREVIEWED and not (job.new_count or job.updated_count),
        "progress_url": reverse("census:progress", args=[job.pk]),
    })


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < len(text) < 7 else 1


def _page_url(request, kind: str, number: int) -> str:
    query = request.GET.copy()
    query[kind] = str(number)
    return f"?{query.urlencode()}#census-{kind}"


@scoped_view(roles=VIEW_ROLES)
def progress(request, pk):
    """JSON for the progress bar: status, rows processed, percent, counts."""
    job = _get(request, pk)
    return JsonResponse({
        "status": job.status, "status_label": job.get_status_display(), "active": job.is_active,
        "processed": job.rows_processed, "total": job.rows_total, "percent": job.percent,
        "waiting_long": job.waiting_long,
    })


@require_POST
@scoped_view(roles=(UserRole.TOWN, UserRole.VILLAGE))
def confirm(request, pk):
    job = _get(request, pk)
    try:
        services.confirm_import(job, acting_user=request.user)
    except services.CensusUploadError as refused:
        messages.error(request, str(refused))
    except IllegalTransition:
        messages.error(request, _("这次导入当前不能确认（状态：%(status)s）。") % {"status": job.get_status_display()})
    return redirect("census:detail", pk=job.pk)


@require_POST
@scoped_view(roles=(UserRole.TOWN, UserRole.VILLAGE))
def cancel(request, pk):
    job = _get(request, pk)
    try:
        services.cancel_import(job, acting_user=request.user)
        messages.success(request, _("已取消这次导入，登记库没有改动。"))
    except IllegalTransition:
        messages.error(request, _("这次导入已经结束，不能取消。"))
    return redirect("census:detail", pk=job.pk)


@scoped_view(roles=VIEW_ROLES)
def rejected_download(request, pk):
    """The rejected-rows workbook of a preview or a finished import (private file; the download
    is recorded)."""
    job = _get(request, pk)
    if not job.rejected_path:
        raise Http404
    path = services.stored_file(job.rejected_path)
    if not os.path.exists(path):
        raise Http404
    record_access(user=request.user, kind="download", obj=job, area_code=job.area_code, field="rejected_rows")
    stem = os.path.splitext(job.file_name)[0]
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"{stem}-退回行.xlsx", content_type=XLSX)
