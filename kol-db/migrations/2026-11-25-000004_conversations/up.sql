-- Outreach conversations (seed table `conversations`). The seed's `last_meddage_at` is
-- `last_message_at`, and `proposed _price_integer` / `agreed _price_integer` lose their stray
-- space (see DESIGN.md).

CREATE TABLE conversations (
    id                     BIGSERIAL PRIMARY KEY,
    -- A creator with outreach history cannot be deleted: history is never lost by a cascade.
    kol_id                 BIGINT NOT NULL REFERENCES kols (id) ON DELETE RESTRICT,
    channel                TEXT NOT NULL,
    status                 TEXT NOT NULL DEFAULT 'contacted',
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Moved by the trigger on `messages` to the time of the newest message.
    last_message_at        TIMESTAMPTZ,
    proposed_deliverables  TEXT,
    proposed_timeline      TEXT,
    proposed_price_integer INTEGER,
    agreed_deliverables    TEXT,
    agreed_timeline        TEXT,
    agreed_price_integer   INTEGER,

    CONSTRAINT conversations_channel_known CHECK (
        channel IN ('dm', 'email', 'line', 'whatsapp', 'phone', 'agency')),
    CONSTRAINT conversations_status_known CHECK (
        status IN ('contacted', 'negotiating', 'confirmed', 'closed')),
    -- Terms are recorded whole: deliverables, timeline and price together, or none of them.
    CONSTRAINT conversations_proposed_terms_whole CHECK (
        num_nulls(proposed_deliverables, proposed_timeline, proposed_price_integer) IN (0, 3)),
    CONSTRAINT conversations_agreed_terms_whole CHECK (
        num_nulls(agreed_deliverables, agreed_timeline, agreed_price_integer) IN (0, 3)),
    CONSTRAINT conversations_terms_text CHECK (
        (proposed_deliverables IS NULL OR (btrim(proposed_deliverables) <> ''
                                           AND char_length(proposed_deliverables) <= 2000))
        AND (proposed_timeline IS NULL OR (btrim(proposed_timeline) <> ''
                                           AND char_length(proposed_timeline) <= 500))
        AND (agreed_deliverables IS NULL OR (btrim(agreed_deliverables) <> ''
                                             AND char_length(agreed_deliverables) <= 2000))
        AND (agreed_timeline IS NULL OR (btrim(agreed_timeline) <> ''
                                         AND char_length(agreed_timeline) <= 500))),
    CONSTRAINT conversations_prices_non_negative CHECK (
        proposed_price_integer >= 0 AND agreed_price_integer >= 0),
    -- `confirmed` needs agreed deliverables, timeline and price.
    CONSTRAINT conversations_confirmed_has_terms CHECK (
        status <> 'confirmed' OR agreed_price_integer IS NOT NULL)
);

CREATE INDEX conversations_kol_id_idx ON conversations (kol_id);
-- "Each KOL can have at most one active conversation": at most one that is not closed.
CREATE UNIQUE INDEX conversations_one_open_per_kol ON conversations (kol_id) WHERE status <> 'closed';
-- The pipeline view: by status, newest activity first.
CREATE INDEX conversations_pipeline_idx ON conversations (status, last_message_at DESC NULLS LAST, id);

-- Status moves only forward: contacted -> negotiating -> confirmed -> closed, negotiating may be
-- re-entered (a new proposal), and any open status may go straight to closed. A closed
-- conversation never reopens, and agreed terms never change once confirmed.
CREATE FUNCTION conversations_check_transition() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
           (OLD.status IN ('contacted', 'negotiating') AND NEW.status = 'negotiating')
        OR (OLD.status = 'negotiating' AND NEW.status = 'confirmed')
        OR (OLD.status <> 'closed' AND NEW.status = 'closed')) THEN
        RAISE EXCEPTION 'a conversation cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_status_transition',
                  TABLE = 'conversations';
    END IF;
    IF OLD.status IN ('confirmed', 'closed') AND (
           NEW.agreed_deliverables IS DISTINCT FROM OLD.agreed_deliverables
        OR NEW.agreed_timeline IS DISTINCT FROM OLD.agreed_timeline
        OR NEW.agreed_price_integer IS DISTINCT FROM OLD.agreed_price_integer) THEN
        RAISE EXCEPTION 'agreed terms of a % conversation cannot change', OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_agreed_terms_final',
                  TABLE = 'conversations';
    END IF;
    IF NEW.kol_id IS DISTINCT FROM OLD.kol_id THEN
        RAISE EXCEPTION 'a conversation cannot move to another creator'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_kol_fixed',
                  TABLE = 'conversations';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER conversations_check_transition
    BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_check_transition();
