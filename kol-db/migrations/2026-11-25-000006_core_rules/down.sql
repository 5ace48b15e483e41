DROP TRIGGER conversations_check_start ON conversations;
DROP FUNCTION conversations_check_start();
ALTER TABLE kol_media
    DROP CONSTRAINT kol_media_url_valid,
    DROP CONSTRAINT kol_media_emb_norm_range;
ALTER TABLE kols
    DROP CONSTRAINT kols_username_platform_rules,
    DROP CONSTRAINT kols_country_assigned,
    DROP CONSTRAINT kols_category_valid,
    DROP CONSTRAINT kols_sample_links_valid,
    ADD CONSTRAINT kols_country_iso CHECK (country ~ '^[A-Z]{2}$');
DROP FUNCTION kol_links_valid(text[]);
DROP FUNCTION kol_link_valid(text);
DROP FUNCTION kol_categories_valid(text[]);
DROP FUNCTION kol_category_valid(text);
DROP FUNCTION kol_country_valid(text);
DROP FUNCTION kol_username_valid(text, text);
