"""`manage.py db_worker` — the one background-job worker (`make demo`, `make worker`, production).

django-tasks-db's worker, made to survive its database going away: when PostgreSQL restarts
(or the network to it drops) the library's worker ends with an OperationalError and nothing
restarts it; queued imports then wait forever. This one waits for the database with back-off
(1, 2, 4 … 30 seconds, `eldercare.jobs.wait_for_database`) and goes on polling the queue.

The jobs themselves run again from the start after a lost connection
(`eldercare.jobs.rerun_after_lost_connection`); a task still marked running under this worker's
id after a reconnect (its connection died around the task, in the library's own bookkeeping)
is put back in the queue — the project's tasks take up their job row where they left it.

Same options as the library's command (this app comes first in INSTALLED_APPS, so its
`db_worker` is the one `manage.py` runs).
"""

import logging

from django.db import InterfaceError, OperationalError
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from eldercare.jobs import freeze_startup_heap, wait_for_database

logger = logging.getLogger("django_tasks_db")


class Worker(db_worker.Worker):
    """The library's worker loop, restarted once the database answers again."""

    def run(self) -> None:
        while self.running:
            try:
                if self.requeue_interrupted():
                    logger.warning("Put back in the queue the tasks interrupted by the lost database connection")
                super().run()
                return  # --batch or --max-tasks: the library's loop ended on purpose
            except (OperationalError, InterfaceError) as error:
                logger.warning("Database unavailable (%s); reconnecting", str(error).strip())
                self.startup_delay = False
                wait_for_database()

    def requeue_interrupted(self) -> int:
        """Tasks still marked running under this worker's id: nothing runs them any more."""
        return DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING, worker_ids__contains=[self.worker_id],
        ).update(status=TaskResultStatus.READY, started_at=None)


class Command(db_worker.Command):
    help = "运行后台任务（调查表导入等）；数据库重启后自动重连，继续处理队列"

    def handle(self, *args, **options):
        # The library's handle() builds its worker by this module-level name; this process is
        # the worker, so pointing the name at the surviving loop affects nothing else.
        db_worker.Worker = Worker
        freeze_startup_heap()
        return super().handle(*args, **options)
