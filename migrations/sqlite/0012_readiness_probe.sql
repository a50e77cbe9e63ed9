-- A scratch table for /readyz on SQLite. After a write failed because the file could not be
-- written (full, read-only, an I/O error), readiness writes a row of a few pages here and
-- deletes it in one committed transaction: the file is ready again once that succeeds. It
-- holds no row between probes, and nothing else reads it. PostgreSQL needs no such table: it
-- tells a read-only server by asking, and a full one fails its writes with its own code.

CREATE TABLE readiness_probe (
    id  INTEGER PRIMARY KEY,
    pad BLOB NOT NULL
);
