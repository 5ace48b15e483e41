-- What creators sell, at what price, reaching how many people (seed table `rate_cards`).

CREATE TABLE rate_cards (
    id            BIGSERIAL PRIMARY KEY,
    -- Deleting a creator deletes its rate card.
    kol_id        BIGINT NOT NULL REFERENCES kols (id) ON DELETE CASCADE,
    item          TEXT NOT NULL,
    price_integer INTEGER NOT NULL,
    est_reach     INTEGER,

    CONSTRAINT rate_cards_item_slug CHECK (item ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT rate_cards_price_non_negative CHECK (price_integer >= 0),
    CONSTRAINT rate_cards_est_reach_non_negative CHECK (est_reach >= 0)
);

CREATE INDEX rate_cards_kol_id_idx ON rate_cards (kol_id);
-- An item is listed once per creator (the optimizer chooses at most one item per creator).
CREATE UNIQUE INDEX rate_cards_kol_id_item_key ON rate_cards (kol_id, item);
