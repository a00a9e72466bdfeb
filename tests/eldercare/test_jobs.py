"""Which database errors mean "the connection is gone" (run the job again once it is back) and
which mean "this statement failed" (mark the job failed)."""

import psycopg
import pytest
from django.db import IntegrityError, InterfaceError, OperationalError

from eldercare.jobs import database_connection_lost


def django_error(cls, cause):
    try:
        try:
            raise cause
        except psycopg.Error as error:
            raise cls(str(error)) from error
    except cls as wrapped:
        return wrapped


@pytest.mark.parametrize("error", [
    psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    psycopg.errors.CannotConnectNow("the database system is starting up"),
    psycopg.OperationalError("server closed the connection unexpectedly"),
    psycopg.InterfaceError("the connection is closed"),
    django_error(OperationalError, psycopg.errors.AdminShutdown("terminating connection")),
    django_error(OperationalError, psycopg.errors.ConnectionFailure("connection failure")),
    InterfaceError("connection already closed"),
])
def test_a_lost_connection_is_recognised(error):
    assert database_connection_lost(error)


@pytest.mark.parametrize("error", [
    psycopg.errors.DeadlockDetected("deadlock detected"),
    psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"),
    django_error(OperationalError, psycopg.errors.QueryCanceled("canceling statement due to statement timeout")),
    django_error(IntegrityError, psycopg.errors.UniqueViolation("duplicate key")),
    ValueError("not a database error"),
])
def test_a_failed_statement_is_not_a_lost_connection(error):
    assert not database_connection_lost(error)
