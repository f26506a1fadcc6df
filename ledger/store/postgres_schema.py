"""The PostgreSQL schema of a team server, and the rules the server enforces itself.

Many projects share one database; every table is keyed by project::

    ledger_meta(key, value)                 format = ledger-server, version = 1
    projects(id, name, owner, head_seq, head_hash, last_tx, summary, lock_token)
    grants(project, role, level)            annotator | reviewer
    events(project, seq, tx, author, time, message, tool_version, tx_kind, ref,
           tx_meta, kind, hash, body, n_blobs)        PRIMARY KEY (project, seq)
    blobs, blob_parts                       arrays by digest, compressed parts
    event_blobs, snapshot_blobs             who uses which array
    tags(project, name, seq, created)       bookmarks outside the chain
    snapshots(project, seq, head_hash, ...) cached projections

The client (`ledger.store.postgres.PostgresStore`) is trusted with nothing that
matters; the server checks, whoever connects with whatever program:

* **Authorship.** ``events.author`` defaults to ``current_user``, and an INSERT
  trigger refuses (SQLSTATE ``LD001``) a row naming anyone else. It refuses
  rather than rewrites because the hash chain covers the author: a silently
  rewritten name would leave a hash that no longer verifies. The project's owner
  is exempt, so an administrator can import a file ledger with its authors.
* **Gap-free positions.** A SECURITY DEFINER trigger locks the project row, and
  refuses (``LD002``) rows that do not run ``head + 1, head + 2, ...``, then
  advances the head and NOTIFYs ``ledger_<project id>``. The primary key refuses
  duplicates. So no client, however written, can leave a hole or reorder history.

  Both triggers run once per statement over its transition table, not once per
  row: a row trigger that moved the head would update the project row once per
  record, and PostgreSQL's row versions make that quadratic (a 10,000-record push
  took 20 s that way; one statement takes a fraction of a second).
* **Grants.** Row-level security limits every table to the projects the role
  owns or is granted (reviewers: SELECT; annotators: also INSERT, and tags and
  snapshots). Table privileges are granted by `ledger.store.postgres_admin.grant`.
* **Immutability.** Nobody is granted UPDATE or DELETE on ``events`` or
  ``event_blobs``, and triggers refuse them (``LD003``) even for the owner, who
  must disable the triggers to tamper, which `verify` then detects.

Functions run with a fixed ``search_path`` (the schema, then ``pg_temp``) so a
role cannot shadow a table with one of its own.
"""

from __future__ import annotations

FORMAT, VERSION = "ledger-server", 1

# Tables keyed by project that roles reach through row-level security.
PROJECT_TABLES = ("events", "blobs", "blob_parts", "event_blobs", "tags", "snapshots",
                  "snapshot_blobs")

TABLES = """
CREATE TABLE ledger_meta(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE projects(
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name <> ''),
    owner name NOT NULL DEFAULT current_user,
    created timestamptz NOT NULL DEFAULT now(),
    head_seq bigint NOT NULL DEFAULT 0,
    head_hash text NOT NULL DEFAULT '',
    last_tx bigint NOT NULL DEFAULT 0,
    summary bytea,
    lock_token integer NOT NULL DEFAULT 0);
CREATE TABLE grants(
    project integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    role name NOT NULL,
    level text NOT NULL CHECK (level IN ('annotator', 'reviewer')),
    PRIMARY KEY (project, role));
CREATE TABLE events(
    project integer NOT NULL REFERENCES projects(id),
    seq bigint NOT NULL CHECK (seq > 0),
    tx bigint NOT NULL,
    author text NOT NULL DEFAULT current_user,
    time text NOT NULL,
    message text NOT NULL,
    tool_version text NOT NULL,
    tx_kind text NOT NULL,
    ref bigint NOT NULL,
    tx_meta bytea,
    kind text NOT NULL,
    hash text NOT NULL,
    body bytea NOT NULL,
    n_blobs integer NOT NULL,
    PRIMARY KEY (project, seq));
CREATE INDEX events_tx ON events(project, tx);
CREATE TABLE blobs(
    project integer NOT NULL REFERENCES projects(id),
    digest text NOT NULL,
    nbytes bigint NOT NULL,
    itemsize integer NOT NULL,
    n_parts integer NOT NULL,
    PRIMARY KEY (project, digest));
CREATE TABLE blob_parts(
    project integer NOT NULL,
    digest text NOT NULL,
    part integer NOT NULL,
    codec smallint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (project, digest, part),
    FOREIGN KEY (project, digest) REFERENCES blobs ON DELETE CASCADE);
ALTER TABLE blob_parts ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE event_blobs(
    project integer NOT NULL, seq bigint NOT NULL, digest text NOT NULL,
    PRIMARY KEY (project, seq, digest));
CREATE INDEX event_blobs_digest ON event_blobs(project, digest);
CREATE TABLE tags(
    project integer NOT NULL REFERENCES projects(id),
    name text NOT NULL,
    seq bigint NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project, name));
CREATE TABLE snapshots(
    project integer NOT NULL REFERENCES projects(id),
    seq bigint NOT NULL,
    head_hash text NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    size bigint NOT NULL,
    crc32 bigint NOT NULL,
    body bytea NOT NULL,
    PRIMARY KEY (project, seq));
CREATE TABLE snapshot_blobs(
    project integer NOT NULL, seq bigint NOT NULL, digest text NOT NULL,
    PRIMARY KEY (project, seq, digest));
CREATE INDEX snapshot_blobs_digest ON snapshot_blobs(project, digest);
"""

# {path} is replaced by the quoted schema name: the functions' fixed search_path.
FUNCTIONS = """
CREATE FUNCTION ledger_projects(p_role name, p_write boolean) RETURNS SETOF integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path}, pg_temp AS $$
    SELECT p.id FROM projects p JOIN pg_roles r ON r.rolname = p.owner
     WHERE pg_has_role(p_role, r.oid, 'MEMBER')
    UNION
    SELECT g.project FROM grants g JOIN pg_roles r ON r.rolname = g.role
     WHERE pg_has_role(p_role, r.oid, 'MEMBER') AND (g.level = 'annotator' OR NOT p_write)
$$;

CREATE FUNCTION ledger_owns(p_project integer, p_role name) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path}, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM projects p JOIN pg_roles r ON r.rolname = p.owner
                    WHERE p.id = p_project AND pg_has_role(p_role, r.oid, 'MEMBER'))
$$;

CREATE FUNCTION ledger_events_check() RETURNS trigger
LANGUAGE plpgsql SET search_path = {path}, pg_temp AS $$
DECLARE
    bad record;
BEGIN
    SELECT project INTO bad FROM added
     WHERE project NOT IN (SELECT ledger_projects(current_user, true)) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'role % may not append to project %', current_user, bad.project
            USING ERRCODE = '42501';
    END IF;
    SELECT seq, author INTO bad FROM added
     WHERE author IS DISTINCT FROM current_user::text
       AND NOT ledger_owns(project, current_user) ORDER BY seq LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'record % names author %, but the server records the role that '
            'commits it (%)', bad.seq, bad.author, current_user USING ERRCODE = 'LD001';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_events_advance() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path}, pg_temp AS $$
DECLARE
    batch record;
    head bigint;
BEGIN
    FOR batch IN SELECT project, min(seq) AS lo, max(seq) AS hi, count(*) AS n
                   FROM added GROUP BY project LOOP
        SELECT head_seq INTO head FROM projects WHERE id = batch.project FOR UPDATE;
        IF batch.lo IS DISTINCT FROM head + 1 OR batch.hi - batch.lo + 1 <> batch.n THEN
            RAISE EXCEPTION 'records %..% do not follow the head % of project %',
                batch.lo, batch.hi, head, batch.project USING ERRCODE = 'LD002';
        END IF;
        UPDATE projects p SET head_seq = a.seq, head_hash = a.hash, last_tx = a.tx
          FROM added a WHERE p.id = batch.project AND a.project = batch.project
           AND a.seq = batch.hi;
        PERFORM pg_notify('ledger_' || batch.project, '');
    END LOOP;
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = {path}, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'stored % rows are immutable (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'LD003';
END $$;

CREATE FUNCTION ledger_collect_garbage(p_project integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path}, pg_temp AS $$
DECLARE
    gone integer;
BEGIN
    PERFORM 1 FROM projects WHERE id = p_project FOR UPDATE;
    DELETE FROM blobs b WHERE b.project = p_project
       AND NOT EXISTS (SELECT 1 FROM event_blobs e
                        WHERE e.project = b.project AND e.digest = b.digest)
       AND NOT EXISTS (SELECT 1 FROM snapshot_blobs s
                        WHERE s.project = b.project AND s.digest = b.digest);
    GET DIAGNOSTICS gone = ROW_COUNT;
    RETURN gone;
END $$;

CREATE TRIGGER events_a_check AFTER INSERT ON events REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_check();
CREATE TRIGGER events_b_advance AFTER INSERT ON events REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_advance();
CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER event_blobs_immutable BEFORE UPDATE OR DELETE ON event_blobs
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER blob_parts_immutable BEFORE UPDATE ON blob_parts
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER blobs_immutable BEFORE UPDATE ON blobs
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

REVOKE ALL ON FUNCTION ledger_collect_garbage(integer) FROM PUBLIC;
"""


def policies() -> str:
    """Row-level security: each role sees and writes only its projects.

    The subquery form (``project IN (SELECT ledger_projects(...))``) is evaluated
    once per statement, not once per row, so reading 10,000 events costs one
    lookup of the role's grants. The owner of the tables bypasses the policies.
    """
    mine = "(SELECT ledger_projects(current_user, {w}))"
    out = ["ALTER TABLE projects ENABLE ROW LEVEL SECURITY;",
           f"CREATE POLICY see ON projects FOR SELECT USING (id IN {mine.format(w='false')});",
           f"CREATE POLICY bump ON projects FOR UPDATE USING (id IN {mine.format(w='true')});"]
    for table in PROJECT_TABLES:
        out.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;")
        out.append(f"CREATE POLICY see ON {table} FOR SELECT "
                   f"USING (project IN {mine.format(w='false')});")
        out.append(f"CREATE POLICY add ON {table} FOR INSERT "
                   f"WITH CHECK (project IN {mine.format(w='true')});")
        if table in ("tags", "snapshots", "snapshot_blobs"):
            out.append(f"CREATE POLICY change ON {table} FOR UPDATE "
                       f"USING (project IN {mine.format(w='true')});")
            out.append(f"CREATE POLICY remove ON {table} FOR DELETE "
                       f"USING (project IN {mine.format(w='true')});")
    return "\n".join(out)


# Table privileges by level (row-level security narrows them to granted projects).
READ = "SELECT ON ledger_meta, projects, " + ", ".join(PROJECT_TABLES)
WRITE = ("INSERT ON events, blobs, blob_parts, event_blobs, tags, snapshots, snapshot_blobs",
         "UPDATE, DELETE ON tags, snapshots, snapshot_blobs",
         "UPDATE (summary, lock_token) ON projects",
         "EXECUTE ON FUNCTION ledger_collect_garbage(integer)")
