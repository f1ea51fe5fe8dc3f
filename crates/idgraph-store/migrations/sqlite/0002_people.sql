-- idgraph store, migration 0002: the source of truth and what is decided and reviewed on it.
-- Documented column by column in docs/schema.md. Same conventions as 0001 (UTC times as
-- fixed-width text, JSON as text, booleans 0/1); dates are 'YYYY-MM-DD' text.

-- Every roster import that changed something: the sources it combined and a content hash.
-- The newest row is the current roster. Rows are never deleted (the history of imports);
-- the people of only the current and the previous version are kept.
CREATE TABLE roster_versions (
    id          INTEGER PRIMARY KEY,
    hash        TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    sources     TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);

-- The people of the current and the previous roster version, in roster order.
CREATE TABLE people (
    version_id       INTEGER NOT NULL,
    position         INTEGER NOT NULL,
    source           TEXT NOT NULL,
    employee_id      TEXT NOT NULL,
    email            TEXT NOT NULL,
    alternate_emails TEXT NOT NULL,
    first_name       TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    department       TEXT,
    title            TEXT,
    manager_id       TEXT,
    status           TEXT NOT NULL CHECK (status IN ('active', 'on_leave', 'terminated')),
    hire_date        TEXT,
    status_date      TEXT,
    PRIMARY KEY (version_id, employee_id)
);
CREATE UNIQUE INDEX people_in_order ON people (version_id, position);

-- What people decided with `idgraph correlate`, keyed by the account's key so decisions
-- survive syncs. Append-only but for the withdrawal columns (`idgraph correlate undo`).
CREATE TABLE correlation_decisions (
    id           INTEGER PRIMARY KEY,
    app          TEXT NOT NULL,
    tenant       TEXT NOT NULL,
    namespace    TEXT NOT NULL,
    native_id    TEXT NOT NULL,
    verdict      TEXT NOT NULL CHECK (verdict IN ('link', 'reject', 'service_account')),
    employee_id  TEXT,
    decided_by   TEXT NOT NULL,
    decided_at   TEXT NOT NULL,
    note         TEXT,
    withdrawn_at TEXT,
    withdrawn_by TEXT,
    CHECK ((verdict = 'service_account') = (employee_id IS NULL))
);
CREATE INDEX correlation_decisions_by_account
    ON correlation_decisions (app, tenant, namespace, native_id);

-- One row per recorded access review: what it ran on and what it counted. `findings` (the
-- finding ids, JSON) is kept on the newest reviews only, to tell new findings from old.
CREATE TABLE reviews (
    id             INTEGER PRIMARY KEY,
    generated_at   TEXT NOT NULL,
    scope          TEXT,
    roster_version INTEGER NOT NULL,
    roster_hash    TEXT NOT NULL,
    syncs          TEXT NOT NULL,
    totals         TEXT NOT NULL,
    apps           TEXT NOT NULL,
    findings       TEXT
);
CREATE INDEX reviews_by_scope ON reviews (scope, id);
