-- What the database accepts, kol-db can read back; what kol-core refuses, the database refuses.
--
-- 1. Text rules that depended on the server's locale (`btrim` trims only ASCII spaces,
--    `[[:space:]]` and `[[:cntrl:]]` follow the C library's locale tables) now name their
--    characters: whitespace is exactly Unicode's White_Space property (Rust's
--    `char::is_whitespace`, which kol-core's trimming uses) and control characters are exactly
--    the Cc category (Rust's `char::is_control`). Before this, a display name, terms or a message
--    body made of no-break spaces (U+00A0, U+2007, U+202F) or U+0085 was stored and then refused
--    by kol-core on every read of its page.
-- 2. Timestamps are finite and within years 1..=9999 (kol-core's `check_timestamp`); `infinity`
--    sorted first in the pipeline and failed every read of it.
-- 3. `extra` JSON nests at most 64 levels and holds no number beyond +/-1e308 (kol-core's
--    `Extra`): deeper values or `1e400` cannot be read by serde_json.
-- 4. The outreach history is append-only and the conversation's terms follow its status (the
--    rules kol-core's `Conversation` keeps), for every client, not only kol-db.
--
-- Every new or redefined CHECK is added NOT VALID (so that upgrading a database never fails or
-- loses a row) and then validated where the stored rows allow; a row written before this
-- migration that breaks a rule stays, and kol-db reports it on read with its table and id.

CREATE FUNCTION kol_trim(input text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN regexp_replace(
        input,
        '^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+'
        '|[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$',
        '', 'g');

-- kol-core's trimmed texts (`PlainText`, the terms' deliverables and timeline): stored trimmed,
-- not empty, at most `max_chars` characters.
CREATE FUNCTION kol_text_clean(input text, max_chars integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN input <> '' AND char_length(input) <= max_chars AND input = kol_trim(input);

CREATE FUNCTION kol_time_valid(t timestamptz) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN t >= '0001-01-01 00:00:00+00' AND t < '10000-01-01 00:00:00+00';

-- A JSON value with at most `depth_left` levels of arrays and objects and no number beyond
-- +/-1e308. Recursive, so it is a string body (parsed at call time).
CREATE FUNCTION kol_json_within(j jsonb, depth_left integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT CASE jsonb_typeof(j)
        WHEN 'object' THEN depth_left > 0 AND coalesce(
            (SELECT bool_and(kol_json_within(v, depth_left - 1)) FROM jsonb_each(j) AS e (k, v)),
            true)
        WHEN 'array' THEN depth_left > 0 AND coalesce(
            (SELECT bool_and(kol_json_within(v, depth_left - 1)) FROM jsonb_array_elements(j) AS a (v)),
            true)
        WHEN 'number' THEN abs((j #>> '{}')::numeric) <= 1e308
        ELSE true
    END
$$;

CREATE FUNCTION kol_extra_valid(extra jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN extra = '{}'::jsonb OR (jsonb_typeof(extra) = 'object' AND kol_json_within(extra, 64));

-- Migration 6's tag and link rules, with the whitespace and control characters named.
CREATE OR REPLACE FUNCTION kol_category_valid(tag text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN char_length(tag) BETWEEN 1 AND 64
        AND tag = lower(tag)
        AND tag !~ '^ | $|  '
        AND translate(tag, ' ', '')
            !~ '[\u0009-\u000D\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]'
        AND tag !~ '[\u0001-\u001F\u007F-\u009F,{}"\\]';

CREATE OR REPLACE FUNCTION kol_link_valid(link text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN char_length(link) <= 2048
        AND link ~ ('^https?://[^/?#\u0001-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+'
                    '([/?#][^\u0001-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*)?$');

-- Redefined checks keep their names; the functions above changed under three of them, so those
-- are re-added too and validated against the stored rows.
ALTER TABLE kols
    DROP CONSTRAINT kols_display_name_trimmed,
    DROP CONSTRAINT kols_contact_trimmed,
    DROP CONSTRAINT kols_category_valid,
    DROP CONSTRAINT kols_sample_links_valid,
    ADD CONSTRAINT kols_display_name_trimmed CHECK (kol_text_clean(display_name, 1000)) NOT VALID,
    ADD CONSTRAINT kols_contact_trimmed CHECK (kol_text_clean(contact, 1000)) NOT VALID,
    ADD CONSTRAINT kols_category_valid CHECK (kol_categories_valid(category)) NOT VALID,
    ADD CONSTRAINT kols_sample_links_valid CHECK (kol_links_valid(sample_links)) NOT VALID,
    ADD CONSTRAINT kols_extra_valid CHECK (kol_extra_valid(extra)) NOT VALID,
    ADD CONSTRAINT kols_created_at_valid CHECK (kol_time_valid(created_at)) NOT VALID;

ALTER TABLE kol_media
    DROP CONSTRAINT kol_media_path_trimmed,
    DROP CONSTRAINT kol_media_url_valid,
    ADD CONSTRAINT kol_media_path_trimmed CHECK (kol_text_clean(path, 1000)) NOT VALID,
    ADD CONSTRAINT kol_media_url_valid CHECK (kol_link_valid(media_url)) NOT VALID;

ALTER TABLE conversations
    DROP CONSTRAINT conversations_terms_text,
    ADD CONSTRAINT conversations_terms_text CHECK (
        kol_text_clean(proposed_deliverables, 2000) AND kol_text_clean(proposed_timeline, 500)
        AND kol_text_clean(agreed_deliverables, 2000) AND kol_text_clean(agreed_timeline, 500)
    ) NOT VALID,
    ADD CONSTRAINT conversations_created_at_valid CHECK (kol_time_valid(created_at)) NOT VALID,
    ADD CONSTRAINT conversations_last_message_at_valid CHECK (kol_time_valid(last_message_at)) NOT VALID,
    -- Agreed terms exist only once agreed: on a confirmed conversation, or a closed one that
    -- was confirmed.
    ADD CONSTRAINT conversations_agreed_terms_when_agreed CHECK (
        status IN ('confirmed', 'closed') OR agreed_price_integer IS NULL) NOT VALID,
    -- `negotiating` means terms are on the table.
    ADD CONSTRAINT conversations_negotiating_has_proposal CHECK (
        status <> 'negotiating' OR proposed_price_integer IS NOT NULL) NOT VALID;

ALTER TABLE messages
    DROP CONSTRAINT messages_body_text,
    ADD CONSTRAINT messages_body_text CHECK (
        kol_trim(body) <> '' AND char_length(body) <= 10000) NOT VALID,
    ADD CONSTRAINT messages_created_at_valid CHECK (kol_time_valid(created_at)) NOT VALID;

-- Validate every constraint above that the stored rows satisfy; leave the others NOT VALID
-- (still enforced on every new or changed row) with a warning naming them.
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT conrelid::regclass AS tab, conname
          FROM pg_constraint
         WHERE NOT convalidated AND contype = 'c'
           AND conrelid IN ('kols'::regclass, 'kol_media'::regclass,
                            'conversations'::regclass, 'messages'::regclass)
         ORDER BY conrelid::regclass::text, conname
    LOOP
        BEGIN
            EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.tab, c.conname);
        EXCEPTION WHEN check_violation THEN
            RAISE WARNING 'rows of % break % (kept; enforced for new rows; kol-db reports them on read)',
                c.tab, c.conname;
        END;
    END LOOP;
END
$$;

-- The conversation's history: what it was with whom is fixed, proposals change only by a new
-- proposal (the conversation is then `negotiating`), agreed terms only by confirming a
-- negotiation, nothing changes once closed, and `last_message_at` only moves forward (the
-- messages trigger moves it).
CREATE FUNCTION conversations_guard_history() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.channel IS DISTINCT FROM OLD.channel
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'a conversation''s id, channel and start time never change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_identity_fixed',
                  TABLE = 'conversations';
    END IF;
    IF NEW.status <> 'negotiating' AND (
           NEW.proposed_deliverables IS DISTINCT FROM OLD.proposed_deliverables
        OR NEW.proposed_timeline IS DISTINCT FROM OLD.proposed_timeline
        OR NEW.proposed_price_integer IS DISTINCT FROM OLD.proposed_price_integer) THEN
        RAISE EXCEPTION 'proposed terms change only with a new proposal (status negotiating), not on a % conversation',
            NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_proposal_by_negotiation',
                  TABLE = 'conversations';
    END IF;
    IF (NEW.agreed_deliverables IS DISTINCT FROM OLD.agreed_deliverables
        OR NEW.agreed_timeline IS DISTINCT FROM OLD.agreed_timeline
        OR NEW.agreed_price_integer IS DISTINCT FROM OLD.agreed_price_integer)
       AND NOT (OLD.status = 'negotiating' AND NEW.status = 'confirmed') THEN
        RAISE EXCEPTION 'agreed terms are set only by confirming a negotiation (not % to %)',
            OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_agreement_by_confirmation',
                  TABLE = 'conversations';
    END IF;
    IF NEW.last_message_at IS DISTINCT FROM OLD.last_message_at
       AND OLD.last_message_at IS NOT NULL
       AND (NEW.last_message_at IS NULL OR NEW.last_message_at < OLD.last_message_at) THEN
        RAISE EXCEPTION 'last_message_at moves only forward (from % to %)',
            OLD.last_message_at, NEW.last_message_at
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_last_message_forward',
                  TABLE = 'conversations';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER conversations_guard_history
    BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_guard_history();

-- Messages and conversations are history: never edited (messages), moved or deleted.
CREATE FUNCTION kol_refuse_history_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% of % refused: outreach history is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_append_only',
              TABLE = TG_TABLE_NAME;
END
$$;

CREATE TRIGGER messages_append_only
    BEFORE UPDATE OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION kol_refuse_history_change();
CREATE TRIGGER messages_append_only_truncate
    BEFORE TRUNCATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION kol_refuse_history_change();
CREATE TRIGGER conversations_append_only
    BEFORE DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION kol_refuse_history_change();
CREATE TRIGGER conversations_append_only_truncate
    BEFORE TRUNCATE ON conversations
    FOR EACH STATEMENT EXECUTE FUNCTION kol_refuse_history_change();
