import pytest

from registry.census import services
from tests.census.helpers import person, write_workbook


@pytest.fixture(autouse=True)
def census_settings(settings, tmp_path):
    """Jobs run inline (one test uses the real queue and worker); private files under tmp."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "private")}}}
    return settings


@pytest.fixture
def finished_import(world, tmp_path, django_capture_on_commit_callbacks):
    """An import by `town` into 李家湾村, confirmed and run: one new row, one rejected row."""

    def make(user="town", rows=None):
        from django.core.files.uploadedfile import SimpleUploadedFile

        rows = rows or [person("李家湾村", "王秀英"), person("石板村", "退回的人")]
        path = write_workbook(tmp_path / "survey.xlsx", rows)
        upload = SimpleUploadedFile("锦屏镇调查表.xlsx", path.read_bytes())
        job = services.store_upload(upload, acting_user=world.users[user])
        services.run_preview(job.pk)
        job.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            services.confirm_import(job, acting_user=world.users[user])
        job.refresh_from_db()
        return job

    return make


@pytest.fixture(params=[False, True], ids=["in-line", "ahead"])
def parallel(request, settings):
    """Run the writer both ways: in the caller's thread, and with the classifying and lookup
    threads ahead of the writes (registry/census/writer.py); several batches either way."""
    settings.CENSUS_PARALLEL_BYTES = 0 if request.param else 10**12
    settings.CENSUS_BATCH_ROWS = 2
    return request.param
