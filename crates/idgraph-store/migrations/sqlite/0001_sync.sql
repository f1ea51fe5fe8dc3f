-- idgraph store, migration 0001: what the sync engine reads out of the apps.
-- Documented column by column in docs/schema.md. Times are UTC text,
-- 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (fixed width, so text order is time order).
-- JSON columns hold JSON text (use json_extract / json_each).
-- Later migrations (0002…) add people, roster versions, links and correlation decisions.

-- The vendor accounts (tenants) seen, and which connector tenant (`source`) reads each:
-- usually the same; for FreshBooks the OAuth grant reads several businesses.
CREATE TABLE tenants (
    app           TEXT NOT NULL,
    tenant        TEXT NOT NULL,
    source        TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    PRIMARY KEY (app, tenant)
);

-- One row per sync of one app's connector tenant. Unfinished runs (finished_at IS NULL)
-- are resumed from their checkpoints.
CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    app         TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
    status      TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    pages       INTEGER NOT NULL DEFAULT 0,
    records     INTEGER NOT NULL DEFAULT 0,
    requests    INTEGER NOT NULL DEFAULT 0,
    events      INTEGER NOT NULL DEFAULT 0,
    error       TEXT
);
CREATE INDEX sync_runs_by_app ON sync_runs (app, tenant, id);

-- Where each resource of an app stands: the cursor of the next page, committed in the same
-- transaction as the page it follows; and the watermark for incremental syncs.
CREATE TABLE checkpoints (
    app        TEXT NOT NULL,
    tenant     TEXT NOT NULL,
    resource   TEXT NOT NULL,
    run_id     INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    since      TEXT,
    cursor     TEXT,
    pages      INTEGER NOT NULL DEFAULT 0,
    records    INTEGER NOT NULL DEFAULT 0,
    requests   INTEGER NOT NULL DEFAULT 0,
    error      TEXT,
    updated_at TEXT NOT NULL,
    watermark  TEXT,
    PRIMARY KEY (app, tenant, resource)
);

CREATE TABLE accounts (
    app               TEXT NOT NULL,
    tenant            TEXT NOT NULL,
    namespace         TEXT NOT NULL,
    native_id         TEXT NOT NULL,
    primary_email     TEXT,
    emails            TEXT NOT NULL,
    display_name      TEXT,
    status            TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'pending', 'deleted', 'missing')),
    listed_status     TEXT NOT NULL CHECK (listed_status IN ('active', 'inactive', 'pending', 'deleted', 'missing')),
    seat_consuming    INTEGER NOT NULL,
    attributes        TEXT NOT NULL,
    vendor_created_at TEXT,
    vendor_updated_at TEXT,
    last_login_at     TEXT,
    resource          TEXT NOT NULL,
    first_seen_at     TEXT NOT NULL,
    last_seen_at      TEXT NOT NULL,
    last_seen_run     INTEGER NOT NULL,
    missing_since     TEXT,
    raw               TEXT NOT NULL,
    UNIQUE (app, tenant, namespace, native_id)
);
CREATE INDEX accounts_by_email ON accounts (primary_email);

CREATE TABLE entitlements (
    app           TEXT NOT NULL,
    tenant        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    native_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    privileged    INTEGER NOT NULL,
    resource      TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    last_seen_run INTEGER NOT NULL,
    missing_since TEXT,
    raw           TEXT NOT NULL,
    PRIMARY KEY (app, tenant, kind, native_id)
);

-- Who holds what now. (app, tenant, namespace, native_id) is the account's key, so
-- `JOIN accounts USING (app, tenant, namespace, native_id)` works. Revoked grants are
-- deleted here and recorded as `entitlement_revoked` events.
CREATE TABLE grants (
    app                TEXT NOT NULL,
    tenant             TEXT NOT NULL,
    namespace          TEXT NOT NULL,
    native_id          TEXT NOT NULL,
    entitlement_tenant TEXT NOT NULL,
    entitlement_kind   TEXT NOT NULL,
    entitlement_id     TEXT NOT NULL,
    attributes         TEXT NOT NULL,
    resource           TEXT NOT NULL,
    first_seen_at      TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    last_seen_run      INTEGER NOT NULL,
    PRIMARY KEY (app, tenant, namespace, native_id, entitlement_tenant, entitlement_kind, entitlement_id)
);
CREATE INDEX grants_by_entitlement ON grants (app, entitlement_tenant, entitlement_kind, entitlement_id);

-- The change log derived from the diffs, append-only.
CREATE TABLE events (
    id               INTEGER PRIMARY KEY,
    at               TEXT NOT NULL,
    run_id           INTEGER,
    app              TEXT NOT NULL,
    tenant           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    namespace        TEXT,
    native_id        TEXT,
    entitlement_kind TEXT,
    entitlement_id   TEXT,
    details          TEXT NOT NULL
);
CREATE INDEX events_by_time ON events (at);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
