"""Background jobs of the census import, on the database queue (django-tasks-db).

They take the import's id only: everything else is read from the CensusImport row, so a job
survives a web restart and a worker restart picks it up. A task whose database connection is
lost (PostgreSQL restarting) waits for the database and runs again from the start: the import's
one transaction was rolled back, and the task's own id lets it take up its import again.
"""

from django_tasks import task

from eldercare.jobs import rerun_after_lost_connection

from . import jobs


@task(takes_context=True)
def preview_census_import(context, import_id: int) -> None:
    """Check a stored upload and store its preview (counts, first rejected rows)."""
    rerun_after_lost_connection(jobs.run_preview, import_id, task_id=context.task_result.id)


@task(takes_context=True)
def run_census_import(context, import_id: int) -> None:
    """Write a confirmed import in one transaction."""
    rerun_after_lost_connection(jobs.run_import, import_id, task_id=context.task_result.id)
