-- Pictures of creators with their CLIP embeddings (seed table `kol_media`).
-- The seed's ivfflat index names a column `embedding`; the column is `emb` (see DESIGN.md).

CREATE TABLE kol_media (
    id        BIGSERIAL PRIMARY KEY,
    -- Deleting a creator deletes its pictures.
    kol_id    BIGINT NOT NULL REFERENCES kols (id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    -- Local development path ("file_path" in the seed's notes).
    path      TEXT,
    -- Public GCS / Supabase URL.
    media_url TEXT,
    emb       VECTOR(512),

    CONSTRAINT kol_media_kind_known CHECK (kind IN ('profile', 'thumb')),
    CONSTRAINT kol_media_has_location CHECK (path IS NOT NULL OR media_url IS NOT NULL),
    CONSTRAINT kol_media_path_trimmed CHECK (
        path IS NULL OR (path = btrim(path) AND path <> '' AND char_length(path) <= 1000)),
    CONSTRAINT kol_media_url_http CHECK (media_url ~ '^https?://[^ ]+$'),
    -- A zero vector has no direction: its cosine distance to anything is undefined.
    CONSTRAINT kol_media_emb_non_zero CHECK (vector_norm(emb) > 0)
);

-- Keep embeddings inline in the heap row (2 KiB), not out of line in TOAST: exact scans then
-- read each vector directly, and bulk loads skip the TOAST writes (pgvector's own advice).
ALTER TABLE kol_media ALTER COLUMN emb SET STORAGE PLAIN;

CREATE INDEX kol_media_kol_id_idx ON kol_media (kol_id);
CREATE INDEX kol_media_emb_idx ON kol_media USING ivfflat (emb vector_cosine_ops) WITH (lists = 100);
