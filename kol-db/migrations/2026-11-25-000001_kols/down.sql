DROP TABLE kols;
DROP FUNCTION kol_fold(text);
DROP FUNCTION kol_follower_tier(integer);
-- The extensions (vector, unaccent, pg_trgm) stay: other schemas of the database may use them,
-- and CREATE EXTENSION IF NOT EXISTS takes them back on the next migration.
