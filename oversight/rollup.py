"""The visit rollup (`VisitDay`: visits and home visits per village per local day) and how it is kept.

The dashboards' visit figures (巡访次数, 其中上门) and the 12-month visit trend read this table —
a town's month is ~400 rows, the county's year ~56,000 — instead of counting ~500,000 visits
joined to their elders. It is kept by PostgreSQL statement-level triggers with transition
tables, so every writer keeps it right without knowing about it: the visits services (a visit
recorded, corrected — date, method or elder — or removed), the admin, the census import, the
demo and benchmark seeders' COPY, and an elder moved to another village (the live figures count
a visit under the elder's current village, so the elder's visits move with them). A trigger
adds the changed rows' counts in one grouped upsert per statement: a COPY of 800,000 visits
costs one aggregate, not 800,000 upserts.

`rebuild()` (`manage.py rebuild_rollups`, nightly) recomputes the table from the visits in one
transaction; `differences()` lists where it disagrees with the live count (the tests check it
after every kind of write; `rebuild_rollups --check` checks production).

The SQL below is what migration 0004 installs; a change to it needs a new migration.
"""

from django.conf import settings
from django.db import connection, transaction

TABLE = "oversight_visitday"
TZ = settings.TIME_ZONE  # the local day of a visit, as the periods count it (Asia/Shanghai)

# (village, day, +visits, +home visits) of a set of visit rows `rows` (a transition table), with
# `sign` +1 / -1; the village is the elder's now (`elders` names the elder rows to join).
_DELTA = f"""
    SELECT e.village_id AS village_id, (r.visited_at AT TIME ZONE '{TZ}')::date AS day,
           {{sign}} * COUNT(*) AS visits, {{sign}} * COUNT(*) FILTER (WHERE r.method = 'home') AS home_visits
      FROM {{rows}} r JOIN {{elders}} e ON e.id = r.elder_id
     GROUP BY 1, 2"""

_APPLY = f"""
    INSERT INTO {TABLE} (village_id, day, visits, home_visits)
    SELECT village_id, day, SUM(visits), SUM(home_visits) FROM ({{deltas}}) d
     GROUP BY village_id, day HAVING SUM(visits) <> 0 OR SUM(home_visits) <> 0
    ON CONFLICT (village_id, day) DO UPDATE
       SET visits = {TABLE}.visits + EXCLUDED.visits, home_visits = {TABLE}.home_visits + EXCLUDED.home_visits"""


def _function(name: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {body};
    RETURN NULL;
END $$;"""


_INSERTED = _APPLY.format(deltas=_DELTA.format(sign="1", rows="new_visits", elders="registry_elder"))
_DELETED = _APPLY.format(deltas=_DELTA.format(sign="-1", rows="old_visits", elders="registry_elder"))
_UPDATED = _APPLY.format(deltas=_DELTA.format(sign="-1", rows="old_visits", elders="registry_elder")
                         + " UNION ALL " + _DELTA.format(sign="1", rows="new_visits", elders="registry_elder"))
# An elder moved: their visits leave the old village's days and join the new one's.
_MOVED_ELDERS = """(SELECT o.id, o.village_id AS old_village, n.village_id AS new_village
                      FROM old_elders o JOIN new_elders n ON n.id = o.id
                     WHERE o.village_id IS DISTINCT FROM n.village_id)"""
_MOVED = _APPLY.format(deltas=f"""
    SELECT m.old_village AS village_id, (v.visited_at AT TIME ZONE '{TZ}')::date AS day,
           -COUNT(*) AS visits, -COUNT(*) FILTER (WHERE v.method = 'home') AS home_visits
      FROM {_MOVED_ELDERS} m JOIN visits_visit v ON v.elder_id = m.id GROUP BY 1, 2
    UNION ALL
    SELECT m.new_village, (v.visited_at AT TIME ZONE '{TZ}')::date,
           COUNT(*), COUNT(*) FILTER (WHERE v.method = 'home')
      FROM {_MOVED_ELDERS} m JOIN visits_visit v ON v.elder_id = m.id GROUP BY 1, 2""")

TRIGGERS_SQL = "\n".join([
    _function("oversight_visitday_inserted", _INSERTED),
    _function("oversight_visitday_deleted", _DELETED),
    _function("oversight_visitday_updated", _UPDATED),
    _function("oversight_visitday_elder_moved", _MOVED),
    """
CREATE TRIGGER oversight_visitday_insert AFTER INSERT ON visits_visit
    REFERENCING NEW TABLE AS new_visits FOR EACH STATEMENT EXECUTE FUNCTION oversight_visitday_inserted();
CREATE TRIGGER oversight_visitday_delete AFTER DELETE ON visits_visit
    REFERENCING OLD TABLE AS old_visits FOR EACH STATEMENT EXECUTE FUNCTION oversight_visitday_deleted();
CREATE TRIGGER oversight_visitday_update AFTER UPDATE ON visits_visit
    REFERENCING OLD TABLE AS old_visits NEW TABLE AS new_visits
    FOR EACH STATEMENT EXECUTE FUNCTION oversight_visitday_updated();
CREATE TRIGGER oversight_visitday_elder_move AFTER UPDATE ON registry_elder
    REFERENCING OLD TABLE AS old_elders NEW TABLE AS new_elders
    FOR EACH STATEMENT EXECUTE FUNCTION oversight_visitday_elder_moved();
"""])

DROP_TRIGGERS_SQL = """
DROP TRIGGER IF EXISTS oversight_visitday_insert ON visits_visit;
DROP TRIGGER IF EXISTS oversight_visitday_delete ON visits_visit;
DROP TRIGGER IF EXISTS oversight_visitday_update ON visits_visit;
DROP TRIGGER IF EXISTS oversight_visitday_elder_move ON registry_elder;
DROP FUNCTION IF EXISTS oversight_visitday_inserted();
DROP FUNCTION IF EXISTS oversight_visitday_deleted();
DROP FUNCTION IF EXISTS oversight_visitday_updated();
DROP FUNCTION IF EXISTS oversight_visitday_elder_moved();
"""

# The whole table from the visits (the live definition: the elder's current village).
_LIVE = f"""
    SELECT e.village_id AS village_id, (v.visited_at AT TIME ZONE '{TZ}')::date AS day,
           COUNT(*) AS visits, COUNT(*) FILTER (WHERE v.method = 'home') AS home_visits
      FROM visits_visit v JOIN registry_elder e ON e.id = v.elder_id GROUP BY 1, 2"""
REBUILD_SQL = f"""
LOCK TABLE {TABLE} IN EXCLUSIVE MODE;
DELETE FROM {TABLE};
INSERT INTO {TABLE} (village_id, day, visits, home_visits) {_LIVE};
"""


def rebuild() -> int:
    """Recompute the rollup from the visits (one transaction: readers see the old rows until it
    commits; writers of visits wait for it). Returns the number of village-days."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(f"INSERT INTO {TABLE} (village_id, day, visits, home_visits) {_LIVE}")
        return cursor.rowcount


def differences(limit: int = 20) -> list[tuple]:
    """(village, day, visits in the rollup, live, home visits in the rollup, live) where they
    differ — empty when the rollup is right."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT COALESCE(r.village_id, l.village_id), COALESCE(r.day, l.day),
                   COALESCE(r.visits, 0), COALESCE(l.visits, 0), COALESCE(r.home_visits, 0), COALESCE(l.home_visits, 0)
              FROM {TABLE} r FULL JOIN ({_LIVE}) l ON l.village_id = r.village_id AND l.day = r.day
             WHERE COALESCE(r.visits, 0) <> COALESCE(l.visits, 0)
                OR COALESCE(r.home_visits, 0) <> COALESCE(l.home_visits, 0)
             ORDER BY 1, 2 LIMIT %s""", [limit])
        return cursor.fetchall()
