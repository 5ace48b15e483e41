-- Creators, as in the seed schema (`kols`), plus the rules the database enforces itself so that
-- a second client cannot store what kol-core would reject.
--
-- Reading of the seed: see DESIGN.md. Columns and types are the seed's; the array and JSON
-- columns are NOT NULL with empty defaults (an absent list is an empty list).

CREATE EXTENSION IF NOT EXISTS vector;
-- Case- and accent-insensitive name search.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- unaccent() is only STABLE (its dictionary could change); this wrapper pins the dictionary so the
-- folding can be used in an index, as the PostgreSQL documentation suggests.
CREATE FUNCTION kol_fold(input text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, input));

CREATE TABLE kols (
    id              BIGSERIAL PRIMARY KEY,
    platform        TEXT NOT NULL,
    username        TEXT NOT NULL,
    display_name    TEXT,
    category        TEXT[] NOT NULL DEFAULT '{}',
    followers       INTEGER,
    country         TEXT,
    contact         TEXT,
    sample_links    TEXT[] NOT NULL DEFAULT '{}',
    extra           JSONB NOT NULL DEFAULT '{}',
    audience_th_pct INTEGER,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT kols_platform_known CHECK (
        platform IN ('tiktok', 'instagram', 'youtube', 'facebook', 'x', 'threads', 'twitch', 'lemon8')),
    -- "Normalized username (lowercased, without @)": not empty, lower case, no leading @, no
    -- whitespace, only the characters some platform allows.
    CONSTRAINT kols_username_normalized CHECK (
        username ~ '^[a-z0-9._-]{1,64}$'),
    CONSTRAINT kols_display_name_trimmed CHECK (
        display_name IS NULL OR (display_name = btrim(display_name) AND display_name <> ''
                                 AND char_length(display_name) <= 1000)),
    CONSTRAINT kols_category_tags CHECK (
        array_position(category, NULL) IS NULL AND array_position(category, '') IS NULL
        AND lower(category::text) = category::text),
    CONSTRAINT kols_followers_non_negative CHECK (followers >= 0),
    CONSTRAINT kols_country_iso CHECK (country ~ '^[A-Z]{2}$'),
    CONSTRAINT kols_contact_trimmed CHECK (
        contact IS NULL OR (contact = btrim(contact) AND contact <> '' AND char_length(contact) <= 1000)),
    CONSTRAINT kols_sample_links_http CHECK (
        array_position(sample_links, NULL) IS NULL
        AND array_to_string(sample_links, ' ') ~ '^((https?://[^ ]+)( https?://[^ ]+)*)?$'),
    CONSTRAINT kols_extra_object CHECK (jsonb_typeof(extra) = 'object'),
    CONSTRAINT kols_audience_th_pct_range CHECK (audience_th_pct BETWEEN 0 AND 100)
);

-- The seed's key: one row per creator per platform.
CREATE UNIQUE INDEX kols_platform_username_key ON kols (platform, username);
-- Filters of the creator search.
CREATE INDEX kols_followers_idx ON kols (followers);
CREATE INDEX kols_country_idx ON kols (country);
CREATE INDEX kols_category_idx ON kols USING gin (category);
CREATE INDEX kols_name_search_idx ON kols
    USING gin (kol_fold(coalesce(display_name, '') || ' ' || username) gin_trgm_ops);

-- The follower tiers of kol-core's FollowerTier (the earlier Python version's thresholds), for
-- SQL users and the tier filter.
CREATE FUNCTION kol_follower_tier(followers integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN CASE
        WHEN followers < 10000 THEN 'nano'
        WHEN followers < 100000 THEN 'micro'
        WHEN followers < 500000 THEN 'mid'
        WHEN followers < 1000000 THEN 'macro'
        ELSE 'mega'
    END;
