"""devtools.schema_compare, which verifies a migration squash: dumps are compared after removing
only what carries no meaning, and a real difference between two chains is reported."""

import io
import subprocess

import pytest

from devtools import schema_compare

DUMP = """--
-- PostgreSQL database dump
--
\\restrict abc123
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE TABLE public.registry_elder (
    id bigint NOT NULL,
    name character varying(30) NOT NULL,
    status character varying(20) NOT NULL
);
CREATE INDEX elder_name ON public.registry_elder USING btree (name);
"""


def test_noise_is_dropped_and_column_order_does_not_count_but_is_reported():
    reordered = DUMP.replace("    name character varying(30) NOT NULL,\n    status character varying(20) NOT NULL\n",
                             "    status character varying(20) NOT NULL,\n    name character varying(30) NOT NULL\n")
    lines, order = schema_compare.normalise(DUMP)
    lines2, order2 = schema_compare.normalise(reordered.replace("abc123", "xyz789"))
    assert lines == lines2
    assert order["public.registry_elder"] == ["id", "name", "status"] != order2["public.registry_elder"]
    assert not any(line.startswith(("--", "SET", "\\restrict", "SELECT pg_catalog")) for line in lines)


def test_an_index_missing_from_the_candidate_is_a_difference():
    lines, _ = schema_compare.normalise(DUMP)
    without, _ = schema_compare.normalise(DUMP.replace("CREATE INDEX elder_name", "-- dropped"))
    assert lines != without


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_chains_are_migrated_and_their_difference_shown(tmp_path):
    """The committed chain against the same chain plus one hand-written index."""
    base = schema_compare.tree_from_git("HEAD", tmp_path)
    candidate = tmp_path / "candidate"
    subprocess.run(["cp", "-a", str(base), str(candidate)], check=True)
    leaf = sorted(p.stem for p in (candidate / "services" / "migrations").glob("[0-9]*.py"))[-1]
    (candidate / "services" / "migrations" / "9999_extra_index.py").write_text(f"""
from django.db import migrations
class Migration(migrations.Migration):
    dependencies = [("services", "{leaf}")]
    operations = [migrations.RunSQL("CREATE INDEX squash_check ON services_provider (name)")]
""")
    out = io.StringIO()
    assert schema_compare.compare(base, candidate, out=out) is False
    assert "+CREATE INDEX squash_check ON public.services_provider USING btree (name);" in out.getvalue()
    assert "Schemas differ: 1 lines." in out.getvalue()
