-- A creator is confirmed in a campaign only with the agreement behind it: its conversation in
-- that campaign confirmed, at the same price. kol-db's `agree_terms` writes both in one
-- transaction, the conversation first; this closes the gap a second SQL client could use, a
-- creator confirmed (and its price committed against the budget) with no agreement anywhere.
-- The trigger fires after `campaign_kols_check` (triggers fire in name order), so the rules of
-- migrations 8 and 9 name their own violations first. The conversation's row is share-locked,
-- so a concurrent change of it either waits for this one or is seen by it. No row is changed:
-- creators confirmed before this migration stay as they are.
CREATE FUNCTION campaign_kols_check_agreement() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'confirmed' AND (TG_OP = 'INSERT' OR OLD.status <> 'confirmed') THEN
        PERFORM 1 FROM conversations
            WHERE campaign_id = NEW.campaign_id AND kol_id = NEW.kol_id
              AND status = 'confirmed' AND agreed_price_integer = NEW.agreed_price_integer
            FOR SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'creator % is confirmed in campaign % only when its conversation there is confirmed at the same price (% THB)',
                NEW.kol_id, NEW.campaign_id, NEW.agreed_price_integer
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_agreed_in_conversation',
                      TABLE = 'campaign_kols';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER campaign_kols_check_agreement
    BEFORE INSERT OR UPDATE ON campaign_kols
    FOR EACH ROW EXECUTE FUNCTION campaign_kols_check_agreement();
