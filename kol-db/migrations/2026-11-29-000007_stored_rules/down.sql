-- Back to migration 6's rules (the extensions stay, as in every down migration).

DROP TRIGGER conversations_append_only_truncate ON conversations;
DROP TRIGGER conversations_append_only ON conversations;
DROP TRIGGER messages_append_only_truncate ON messages;
DROP TRIGGER messages_append_only ON messages;
DROP FUNCTION kol_refuse_history_change();
DROP TRIGGER conversations_guard_history ON conversations;
DROP FUNCTION conversations_guard_history();

ALTER TABLE messages
    DROP CONSTRAINT messages_created_at_valid,
    DROP CONSTRAINT messages_body_text,
    ADD CONSTRAINT messages_body_text CHECK (body ~ '[^[:space:]]' AND char_length(body) <= 10000);

ALTER TABLE conversations
    DROP CONSTRAINT conversations_negotiating_has_proposal,
    DROP CONSTRAINT conversations_agreed_terms_when_agreed,
    DROP CONSTRAINT conversations_last_message_at_valid,
    DROP CONSTRAINT conversations_created_at_valid,
    DROP CONSTRAINT conversations_terms_text,
    ADD CONSTRAINT conversations_terms_text CHECK (
        (proposed_deliverables IS NULL OR (btrim(proposed_deliverables) <> ''
                                           AND char_length(proposed_deliverables) <= 2000))
        AND (proposed_timeline IS NULL OR (btrim(proposed_timeline) <> ''
                                           AND char_length(proposed_timeline) <= 500))
        AND (agreed_deliverables IS NULL OR (btrim(agreed_deliverables) <> ''
                                             AND char_length(agreed_deliverables) <= 2000))
        AND (agreed_timeline IS NULL OR (btrim(agreed_timeline) <> ''
                                         AND char_length(agreed_timeline) <= 500)));

ALTER TABLE kol_media
    DROP CONSTRAINT kol_media_url_valid,
    DROP CONSTRAINT kol_media_path_trimmed,
    ADD CONSTRAINT kol_media_path_trimmed CHECK (
        path IS NULL OR (path = btrim(path) AND path <> '' AND char_length(path) <= 1000));

ALTER TABLE kols
    DROP CONSTRAINT kols_created_at_valid,
    DROP CONSTRAINT kols_extra_valid,
    DROP CONSTRAINT kols_sample_links_valid,
    DROP CONSTRAINT kols_category_valid,
    DROP CONSTRAINT kols_contact_trimmed,
    DROP CONSTRAINT kols_display_name_trimmed,
    ADD CONSTRAINT kols_display_name_trimmed CHECK (
        display_name IS NULL OR (display_name = btrim(display_name) AND display_name <> ''
                                 AND char_length(display_name) <= 1000)),
    ADD CONSTRAINT kols_contact_trimmed CHECK (
        contact IS NULL OR (contact = btrim(contact) AND contact <> '' AND char_length(contact) <= 1000));

CREATE OR REPLACE FUNCTION kol_category_valid(tag text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN char_length(tag) BETWEEN 1 AND 64
        AND tag = lower(tag)
        AND tag !~ '^ | $|  '
        AND translate(tag, ' ', '') !~ '[[:space:]]'
        AND tag !~ '[[:cntrl:],{}"\\]';

CREATE OR REPLACE FUNCTION kol_link_valid(link text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN char_length(link) <= 2048
        AND link ~ '^https?://[^/?#[:space:][:cntrl:]]+([/?#][^[:space:][:cntrl:]]*)?$';

ALTER TABLE kols
    ADD CONSTRAINT kols_category_valid CHECK (kol_categories_valid(category)),
    ADD CONSTRAINT kols_sample_links_valid CHECK (kol_links_valid(sample_links));
ALTER TABLE kol_media
    ADD CONSTRAINT kol_media_url_valid CHECK (kol_link_valid(media_url));

DROP FUNCTION kol_extra_valid(jsonb);
DROP FUNCTION kol_json_within(jsonb, integer);
DROP FUNCTION kol_time_valid(timestamptz);
DROP FUNCTION kol_text_clean(text, integer);
DROP FUNCTION kol_trim(text);
