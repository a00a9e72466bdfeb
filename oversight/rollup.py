"""The visit rollup (`VisitDay`: visits, home visits and visits by method × outcome per village
per local day) and how it is kept.

The dashboards' visit figures (巡访次数, 其中上门), the 12-month visit trend and the reports'
visits by method and outcome (四、巡访) read this table — a town's month is ~400 rows, the
county's year ~56,000 — instead of counting ~500,000 visits joined to their elders. It is kept by PostgreSQL statement-level triggers with transition
tables, so every writer keeps it right without knowing about it: the visits services (a visit
recorded, corrected — date, method or elder — or removed), the admin, the census import, the
demo and benchmark seeders' COPY, and an elder moved to another village (the live figures count
a visit under the elder's current village, so the elder's visits move with them). A trigger
adds the changed rows' counts in one grouped upsert per statement: a COPY of 800,000 visits
costs one aggregate, not 800,000 upserts.

`rebuild()` (`manage.py rebuild_rollups`, nightly) recomputes the table from the visits in one
transaction; `differences()` lists where it disagrees with the live count (the tests check it
after every kind of write; `rebuild_rollups --check` checks production).

The SQL below is what the migrations install (0004 the table and triggers, 0005 the method ×
outcome columns, 0006 the empty visits: `kinds=(), empty=False` gives 0004's SQL, `empty=False`
0005's); a change to it needs a new migration. The method ×
outcome columns follow the visits' choices (`KINDS`): a new method or outcome is a new column,
which `makemigrations --check` asks for.
"""

from django.conf import settings
from django.db import connection, transaction

from visits.choices import VisitMethod, VisitOutcome

TABLE = "oversight_visitday"
TZ = settings.TIME_ZONE  # the local day of a visit, as the periods count it (Asia/Shanghai)
# (method, outcome, column) of every visit method × outcome: the columns of the reports' 四、巡访.
KINDS = [(method, outcome, f"{method}_{outcome}") for method in VisitMethod.values for outcome in VisitOutcome.values]
# 流于形式的巡访 (the scorecard's sc_empty_visits, whose rows are oversight.scorecard._EMPTY_VISIT):
# nobody named as met, or a problem found and nothing done about it. Its figure is this column and
# its list the Q, so tests/oversight/test_rollup.py checks figure == list after every kind of write.
EMPTY_VISIT_SQL = ("{v}.met_with = '' OR ({v}.outcome <> 'normal' AND NOT {v}.notify_family"
                   " AND NOT {v}.report_to_town AND NOT {v}.request_service)")


def _columns(kinds, empty) -> list[str]:
    return ["visits", "home_visits", *(column for _method, _outcome, column in kinds), *(["empty_visits"] if empty else [])]


def _counts(alias: str, sign: str, kinds, empty) -> str:
    """The rollup's columns counted over the visit rows `alias` (× `sign`)."""
    counts = [f"{sign} COUNT(*) AS visits", f"{sign} COUNT(*) FILTER (WHERE {alias}.method = 'home') AS home_visits"]
    counts += [f"{sign} COUNT(*) FILTER (WHERE {alias}.method = '{method}' AND {alias}.outcome = '{outcome}') AS {column}"
               for method, outcome, column in kinds]
    if empty:
        counts.append(f"{sign} COUNT(*) FILTER (WHERE {EMPTY_VISIT_SQL.format(v=alias)}) AS empty_visits")
    return ", ".join(counts)


def _delta(sign: str, rows: str, kinds, empty) -> str:
    """(village, day, ±counts) of a set of visit rows `rows` (a transition table); the village is
    the elder's now."""
    return f"""
    SELECT e.village_id AS village_id, (r.visited_at AT TIME ZONE '{TZ}')::date AS day, {_counts("r", sign, kinds, empty)}
      FROM {rows} r JOIN registry_elder e ON e.id = r.elder_id
     GROUP BY 1, 2"""


def _apply(deltas: str, kinds, empty) -> str:
    """Add the summed `deltas` to the rollup, one upsert per village-day."""
    columns = _columns(kinds, empty)
    return f"""
    INSERT INTO {TABLE} (village_id, day, {", ".join(columns)})
    SELECT village_id, day, {", ".join(f"SUM({c})" for c in columns)} FROM ({deltas}) d
     GROUP BY village_id, day HAVING {" OR ".join(f"SUM({c}) <> 0" for c in columns)}
    ON CONFLICT (village_id, day) DO UPDATE
       SET {", ".join(f"{c} = {TABLE}.{c} + EXCLUDED.{c}" for c in columns)}"""


def _function(name: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {body};
    RETURN NULL;
END $$;"""


# An elder moved: their visits leave the old village's days and join the new one's.
_MOVED_ELDERS = """(SELECT o.id, o.village_id AS old_village, n.village_id AS new_village
                      FROM old_elders o JOIN new_elders n ON n.id = o.id
                     WHERE o.village_id IS DISTINCT FROM n.village_id)"""


def functions_sql(kinds=KINDS, empty=True) -> str:
    """The trigger functions (CREATE OR REPLACE) keeping the rollup's columns for `kinds` (and
    the empty visits)."""
    moved = f"""
    SELECT m.old_village AS village_id, (v.visited_at AT TIME ZONE '{TZ}')::date AS day, {_counts("v", "-", kinds, empty)}
      FROM {_MOVED_ELDERS} m JOIN visits_visit v ON v.elder_id = m.id GROUP BY 1, 2
    UNION ALL
    SELECT m.new_village, (v.visited_at AT TIME ZONE '{TZ}')::date, {_counts("v", "", kinds, empty)}
      FROM {_MOVED_ELDERS} m JOIN visits_visit v ON v.elder_id = m.id GROUP BY 1, 2"""
    return "\n".join([
        _function("oversight_visitday_inserted", _apply(_delta("", "new_visits", kinds, empty), kinds, empty)),
        _function("oversight_visitday_deleted", _apply(_delta("-", "old_visits", kinds, empty), kinds, empty)),
        _function("oversight_visitday_updated", _apply(_delta("-", "old_visits", kinds, empty) + " UNION ALL "
                                                       + _delta("", "new_visits", kinds, empty), kinds, empty)),
        _function("oversight_visitday_elder_moved", _apply(moved, kinds, empty)),
    ])


def triggers_sql(kinds=KINDS, empty=True) -> str:
    return functions_sql(kinds, empty) + """
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
"""


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


def _live(kinds=KINDS, empty=True) -> str:
    """The whole table from the visits (the live definition: the elder's current village)."""
    return f"""
    SELECT e.village_id AS village_id, (v.visited_at AT TIME ZONE '{TZ}')::date AS day, {_counts("v", "", kinds, empty)}
      FROM visits_visit v JOIN registry_elder e ON e.id = v.elder_id GROUP BY 1, 2"""


TRIGGERS_SQL = triggers_sql()


def rebuild() -> int:
    """Recompute the rollup from the visits (one transaction: readers see the old rows until it
    commits; writers of visits wait for it). Returns the number of village-days. The rows are
    written in village order: the triggers add each day's rows for every village as visits come,
    so one county's year lies on one page per village-day (33,000 pages at province scale);
    after a rebuild it lies on a few hundred."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(f"INSERT INTO {TABLE} (village_id, day, {', '.join(_columns(KINDS, True))}) {_live()} ORDER BY 1, 2")
        return cursor.rowcount


def differences(limit: int = 20) -> list[tuple]:
    """(village, day, column, count in the rollup, live count) where they differ — empty when the
    rollup is right (every column: visits, home visits, each method × outcome)."""
    columns = _columns(KINDS, True)
    pairs = ", ".join(f"('{c}', COALESCE(r.{c}, 0), COALESCE(l.{c}, 0))" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT COALESCE(r.village_id, l.village_id), COALESCE(r.day, l.day), c.name, c.stored, c.live
              FROM {TABLE} r FULL JOIN ({_live()}) l ON l.village_id = r.village_id AND l.day = r.day,
                   LATERAL (VALUES {pairs}) c (name, stored, live)
             WHERE c.stored <> c.live
             ORDER BY 1, 2, 3 LIMIT %s""", [limit])
        return cursor.fetchall()
