"""The census COPY data: the list columns' own binary dumper sends the bytes psycopg's list dumper
sends, so the stored values are the same (registry/census/bulk.py)."""

import io

import psycopg
import pytest
from django.db import connection
from psycopg.copy import FileWriter
from psycopg.pq import Format

from registry.census.bulk import _copy_data, _VarcharArrayDumper

pytestmark = pytest.mark.django_db

LISTS = [[], ["13800001111"], ["13800001111", "0851-1234567"], ["低保", "养老金", "子女供养"], [""], ["é" * 20],
         ["x" * 200, "y"], ["13800001111"]]  # the last repeats one: a list built once is reused


def psycopg_copy_data(types, rows):
    buffer = io.BytesIO()
    with connection.cursor() as cursor, psycopg.Copy(cursor.cursor, binary=True, writer=FileWriter(buffer)) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    return buffer.getvalue()


def test_list_columns_are_sent_as_psycopg_sends_them():
    types = ["bigint", "varchar[]", "varchar", "varchar[]", "text[]"]
    rows = [(pk, values, "张三", list(reversed(values)), values) for pk, values in enumerate(LISTS)]
    rows.append((99, None, None, ["a"], None))
    assert _copy_data(types, rows) == psycopg_copy_data(types, rows)


def test_the_dumper_is_registered_for_that_copy_only():
    _copy_data(["varchar[]"], [(["a"],)])
    dumper = connection.connection.adapters.get_dumper_by_oid(_VarcharArrayDumper.oid, Format.BINARY)
    assert dumper is not _VarcharArrayDumper


def test_two_batches_joined_are_the_copy_data_of_their_rows():
    """Prepared.extend writes several batches with one COPY per table: the joined blocks are the
    bytes psycopg makes for all their rows, in order."""
    from registry.census.bulk import _joined

    types = ["bigint", "varchar", "varchar[]"]
    first, second, third = [(1, "张三", ["a"])], [(2, "李四", []), (3, None, None)], [(4, "王五", ["b", "c"])]
    joined = _joined(_joined(_copy_data(types, first), _copy_data(types, second)), _copy_data(types, third))
    assert joined == psycopg_copy_data(types, first + second + third)


def test_merged_batches_keep_each_tables_order_and_ids():
    from registry.census.bulk import Prepared
    from registry.models import CareAgreement, Elder, ElderGuardian, Guardian

    def data(*ids):
        return _copy_data(["bigint"], [(pk,) for pk in ids])

    writing = Prepared(inserts=[(Elder, [1], data(1)), (ElderGuardian, [10], data(10))], updates=[(Elder, data(5))])
    writing.extend(Prepared(inserts=[(Elder, [2], data(2)), (Guardian, [7], data(7)), (CareAgreement, [3], data(3))],
                            updates=[(Guardian, data(8)), (Elder, data(6))]))
    assert [(model, ids, blob) for model, ids, blob in writing.inserts] == [
        (Elder, [1, 2], data(1, 2)), (Guardian, [7], data(7)), (ElderGuardian, [10], data(10)),
        (CareAgreement, [3], data(3))]
    assert writing.updates == [(Elder, data(5, 6)), (Guardian, data(8))]
