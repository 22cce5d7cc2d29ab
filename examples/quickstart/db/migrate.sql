-- Release command of the Api: idempotent schema migration.
CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, version TEXT, at TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS schema_info (key TEXT PRIMARY KEY, value TEXT);
INSERT OR REPLACE INTO schema_info VALUES ('migrated_by', 'depctl quickstart');
