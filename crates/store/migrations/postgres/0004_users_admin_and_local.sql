-- Whose deployments a store holds (issue 14, point 4). Keep in step with
-- migrations/sqlite/0004_users_admin_and_local.sql.
--
-- 1. Users may be administrators: an admin token can list every user's
--    deployments through the API. The `admin` user `serve` creates is one.
ALTER TABLE users ADD COLUMN admin BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET admin = TRUE WHERE name = 'admin';

-- 2. The command line's default user is a user like any other: name `local`,
--    id `local` (the owner every CLI deployment was written with before
--    there were named CLI users), so a token made for `local` sees them.
INSERT INTO users (id, name, created_at)
SELECT 'local', 'local', (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT
WHERE NOT EXISTS (SELECT 1 FROM users WHERE name = 'local' OR id = 'local');

-- A service user already named `local` (made by `token create --user local`)
-- is the CLI's default user from now on: the CLI's deployments become its own
-- instead of belonging to nobody.
UPDATE deployments SET owner = (SELECT id FROM users WHERE name = 'local')
WHERE owner = 'local' AND NOT EXISTS (SELECT 1 FROM users WHERE id = 'local');
