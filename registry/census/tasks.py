"""Background jobs of the census import, on the database queue (django-tasks-db).

They take the import's id only: everything else is read from the CensusImport row, so a job
survives a web restart and a worker restart picks it up.
"""

from django_tasks import task

from . import jobs


@task()
def preview_census_import(import_id: int) -> None:
    """Check a stored upload and store its preview (counts, first rejected rows)."""
    jobs.run_preview(import_id)


@task()
def run_census_import(import_id: int) -> None:
    """Write a confirmed import in one transaction."""
    jobs.run_import(import_id)
