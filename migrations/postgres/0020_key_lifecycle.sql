-- A key's lifecycle: when it expires (none: never), when it was revoked, when it was last used
-- (written at most once a minute), and whether it is one of the demo's public keys, which work
-- only while the database holds nothing but the demo's contracts. A key is never deleted: a
-- revoked one stays listed, so that what it wrote can still be traced to it.
ALTER TABLE api_keys ADD COLUMN expires_at TEXT;
ALTER TABLE api_keys ADD COLUMN revoked_at TEXT;
ALTER TABLE api_keys ADD COLUMN last_used_at TEXT;
ALTER TABLE api_keys ADD COLUMN demo BOOLEAN NOT NULL DEFAULT FALSE;
-- The demo's keys stored before this migration are the fixed, public ones.
UPDATE api_keys SET demo = TRUE WHERE principal LIKE 'demo-%';
