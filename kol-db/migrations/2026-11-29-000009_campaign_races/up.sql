-- Closes races and gaps of migration 8 that a second SQL client could use (found in review):
--
-- * A campaign's status is read under a lock by every rule that depends on it (creators in a
--   campaign, its plan, new conversations), so a creator cannot be confirmed, a plan item added
--   or a conversation opened in a campaign that a concurrent transaction is closing.
-- * Budget and exclusivity checks (and the plan's budget) read other rows after taking a lock.
--   Under READ COMMITTED each later statement sees what committed before the lock was granted;
--   under SERIALIZABLE PostgreSQL detects the conflict. Under REPEATABLE READ neither holds (the
--   snapshot predates the lock), so confirmations and plan writes are refused there, with a
--   message that says so; kol-db's own connections use READ COMMITTED.
-- * A post link's platform is read only from links kol-core reads the same way: a non-ASCII
--   host (which a URL parser maps to another, IDNA-encoded host) or a port above 65535 is on no
--   platform, so such a post is refused instead of stored unreadable.
-- * A creator's platform never changes once one of its deliverables is posted (the post's link
--   is checked against it, and kol-db reads it back against it).
-- No row is changed: the rules apply to changes from now on.

-- Refuses `what` under REPEATABLE READ (see above).
CREATE FUNCTION kol_require_read_committed(what text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION '% needs READ COMMITTED or SERIALIZABLE isolation: under REPEATABLE READ a concurrent change could slip past the check', what
            USING ERRCODE = 'check_violation', CONSTRAINT = 'kol_isolation_level';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION kol_post_platform(url text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN (
        SELECT CASE
            -- What kol-core's URL parser refuses or reads differently is on no platform: a
            -- host or user info that is not printable ASCII (IDNA would map it to another
            -- host), or a port that is not a number up to 65535.
            WHEN authority !~ '^[!-~]*$' THEN NULL
            WHEN authority !~ '^(?:[^@]*@)?[^@:]*(?::[0-9]{0,5})?$' THEN NULL
            WHEN coalesce(nullif(substring(authority FROM ':([0-9]{1,5})$'), ''), '0')::int > 65535 THEN NULL
            WHEN bare IN ('youtu.be') THEN 'youtube'
            WHEN bare IN ('vt.tiktok.com') THEN 'tiktok'
            WHEN bare IN ('fb.watch') THEN 'facebook'
            ELSE CASE regexp_replace(host, '^(www|m)\.', '')
                WHEN 'tiktok.com' THEN 'tiktok'
                WHEN 'vm.tiktok.com' THEN 'tiktok'
                WHEN 'instagram.com' THEN 'instagram'
                WHEN 'youtube.com' THEN 'youtube'
                WHEN 'facebook.com' THEN 'facebook'
                WHEN 'fb.com' THEN 'facebook'
                WHEN 'x.com' THEN 'x'
                WHEN 'twitter.com' THEN 'x'
                WHEN 'mobile.twitter.com' THEN 'x'
                WHEN 'threads.net' THEN 'threads'
                WHEN 'threads.com' THEN 'threads'
                WHEN 'twitch.tv' THEN 'twitch'
                WHEN 'lemon8-app.com' THEN 'lemon8'
            END
        END
        FROM (SELECT h AS host, regexp_replace(h, '^www\.', '') AS bare, authority
                FROM (SELECT rtrim(lower(substring(url FROM '^https?://(?:[^/\\?#@]*@)?([^/\\?#:]*)')), '.') AS h,
                             coalesce(substring(url FROM '^https?://([^/\\?#]*)'), '') AS authority) AS x) AS y);

CREATE OR REPLACE FUNCTION campaign_kols_check() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    c record;
    committed bigint;
    rival bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a creator is never removed from a campaign: drop it instead'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_append_only',
                  TABLE = 'campaign_kols';
    END IF;
    -- The campaign's row is locked before its status is read, so a concurrent status change
    -- (done, cancelled) either waits for this change or is seen by it: a confirmation takes the
    -- lock that serializes confirmations, any other change a share lock.
    IF NEW.status = 'confirmed' AND (TG_OP = 'INSERT' OR OLD.status <> 'confirmed') THEN
        PERFORM kol_require_read_committed('confirming a creator in a campaign');
        SELECT * INTO c FROM campaigns WHERE id = NEW.campaign_id FOR NO KEY UPDATE;
    ELSE
        SELECT * INTO c FROM campaigns WHERE id = NEW.campaign_id FOR SHARE;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status NOT IN ('shortlisted', 'planned', 'contacted') THEN
            RAISE EXCEPTION 'a creator joins a campaign shortlisted, planned or contacted (not %)',
                NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_start',
                      TABLE = 'campaign_kols';
        END IF;
    ELSE
        IF NEW.campaign_id IS DISTINCT FROM OLD.campaign_id OR NEW.kol_id IS DISTINCT FROM OLD.kol_id
           OR NEW.added_at IS DISTINCT FROM OLD.added_at THEN
            RAISE EXCEPTION 'a campaign creator''s campaign, creator and time added never change'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_identity_fixed',
                      TABLE = 'campaign_kols';
        END IF;
        IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
               (OLD.status = 'shortlisted' AND NEW.status IN ('planned', 'contacted'))
            OR (OLD.status = 'planned' AND NEW.status IN ('contacted', 'shortlisted'))
            OR (OLD.status = 'contacted' AND NEW.status = 'confirmed')
            OR (OLD.status IN ('shortlisted', 'planned', 'contacted') AND NEW.status = 'dropped')) THEN
            RAISE EXCEPTION 'a campaign creator cannot go from % to %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_status_transition',
                      TABLE = 'campaign_kols';
        END IF;
        IF OLD.status = 'confirmed' AND (
               NEW.agreed_price_integer IS DISTINCT FROM OLD.agreed_price_integer
            OR NEW.over_budget_approved IS DISTINCT FROM OLD.over_budget_approved) THEN
            RAISE EXCEPTION 'a confirmed creator''s price is fixed'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_price_fixed',
                      TABLE = 'campaign_kols';
        END IF;
        IF NEW IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;
        END IF;
    END IF;
    IF c.status NOT IN ('draft', 'planning', 'running') THEN
        RAISE EXCEPTION 'campaign % is %: its creators are fixed', c.id, c.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_campaign_open',
                  TABLE = 'campaign_kols';
    END IF;
    IF NEW.status = 'confirmed' AND (TG_OP = 'INSERT' OR OLD.status <> 'confirmed') THEN
        IF c.status <> 'running' THEN
            RAISE EXCEPTION 'campaign % is %: creators are confirmed only while it runs',
                c.id, c.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_confirm_running',
                      TABLE = 'campaign_kols';
        END IF;
        committed := campaign_committed_thb(NEW.campaign_id, NEW.kol_id);
        IF committed + NEW.agreed_price_integer > c.budget_integer AND NOT NEW.over_budget_approved THEN
            RAISE EXCEPTION 'confirming creator % at % THB takes campaign % to % THB, over its budget of %',
                NEW.kol_id, NEW.agreed_price_integer, c.id,
                committed + NEW.agreed_price_integer, c.budget_integer
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_within_budget',
                      TABLE = 'campaign_kols';
        END IF;
        PERFORM 1 FROM kols WHERE id = NEW.kol_id FOR NO KEY UPDATE;
        rival := campaign_exclusivity_rival(NEW.campaign_id, NEW.kol_id);
        IF rival IS NOT NULL THEN
            RAISE EXCEPTION 'creator % is confirmed for campaign % of another client, in an overlapping period, and one of the two is exclusive',
                NEW.kol_id, rival
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_kols_exclusive',
                      TABLE = 'campaign_kols';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION campaign_plan_items_check() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    campaign_status text;
BEGIN
    SELECT status INTO campaign_status FROM campaigns
     WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.campaign_id ELSE NEW.campaign_id END
       FOR SHARE;
    IF campaign_status NOT IN ('draft', 'planning') THEN
        RAISE EXCEPTION 'the plan of a % campaign is fixed', campaign_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_plans_fixed',
                  TABLE = TG_TABLE_NAME;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE FUNCTION campaign_plan_within_budget() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    c record;
    spend bigint;
BEGIN
    PERFORM kol_require_read_committed('writing a campaign plan');
    -- Plans of one campaign are checked one commit at a time: the sum below (a new statement,
    -- so a new snapshot under READ COMMITTED) sees the items of a plan that committed first.
    SELECT campaign_id, budget_integer INTO c FROM campaign_plans
     WHERE campaign_id = NEW.campaign_id FOR UPDATE;
    SELECT coalesce(sum(price_integer), 0) INTO spend
      FROM campaign_plan_items WHERE campaign_id = NEW.campaign_id;
    IF spend > c.budget_integer THEN
        RAISE EXCEPTION 'the plan of campaign % costs % THB, over its budget of %',
            c.campaign_id, spend, c.budget_integer
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_plan_items_within_budget',
                  TABLE = 'campaign_plan_items';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION conversations_check_campaign() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.campaign_id IS NULL THEN
        RETURN NEW; -- the NOT NULL constraint names the problem
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.campaign_id IS DISTINCT FROM OLD.campaign_id THEN
            RAISE EXCEPTION 'a conversation never moves to another campaign'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_campaign_fixed',
                      TABLE = 'conversations';
        END IF;
        RETURN NEW;
    END IF;
    -- Locked, so that a campaign being closed concurrently is seen closed (or waits).
    PERFORM 1 FROM campaigns WHERE id = NEW.campaign_id
                               AND status IN ('draft', 'planning', 'running') FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'campaign % is not open: no new conversation', NEW.campaign_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_campaign_open',
                  TABLE = 'conversations';
    END IF;
    IF EXISTS (SELECT 1 FROM campaign_kols WHERE campaign_id = NEW.campaign_id
                                             AND kol_id = NEW.kol_id AND status = 'dropped') THEN
        RAISE EXCEPTION 'creator % was dropped from campaign %', NEW.kol_id, NEW.campaign_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'conversations_kol_not_dropped',
                  TABLE = 'conversations';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION deliverables_check() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    platform text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a deliverable is never deleted (it is missed instead)'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_append_only',
                  TABLE = 'deliverables';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'agreed' THEN
            RAISE EXCEPTION 'a deliverable starts as agreed (not %)', NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_start_agreed',
                      TABLE = 'deliverables';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM campaign_kols WHERE campaign_id = NEW.campaign_id
                                                     AND kol_id = NEW.kol_id
                                                     AND status = 'confirmed') THEN
            RAISE EXCEPTION 'creator % is not confirmed in campaign %', NEW.kol_id, NEW.campaign_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_kol_confirmed',
                      TABLE = 'deliverables';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM conversations WHERE id = NEW.conversation_id
                                                     AND status IN ('confirmed', 'closed')
                                                     AND agreed_price_integer IS NOT NULL) THEN
            RAISE EXCEPTION 'conversation % has no agreement', NEW.conversation_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_agreed_conversation',
                      TABLE = 'deliverables';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.campaign_id IS DISTINCT FROM OLD.campaign_id
       OR NEW.kol_id IS DISTINCT FROM OLD.kol_id
       OR NEW.conversation_id IS DISTINCT FROM OLD.conversation_id
       OR NEW.item IS DISTINCT FROM OLD.item OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'a deliverable''s campaign, creator, agreement and item never change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_identity_fixed',
                  TABLE = 'deliverables';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
           (OLD.status = 'agreed' AND NEW.status IN ('draft_submitted', 'posted'))
        OR (OLD.status = 'draft_submitted' AND NEW.status IN ('approved', 'agreed'))
        OR (OLD.status = 'approved' AND NEW.status = 'posted')
        OR (OLD.status = 'posted' AND NEW.status = 'verified')
        OR (OLD.status IN ('agreed', 'draft_submitted', 'approved') AND NEW.status = 'missed')) THEN
        RAISE EXCEPTION 'a deliverable cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_status_transition',
                  TABLE = 'deliverables';
    END IF;
    IF OLD.post_url IS NOT NULL AND (NEW.post_url IS DISTINCT FROM OLD.post_url
                                     OR NEW.posted_at IS DISTINCT FROM OLD.posted_at) THEN
        RAISE EXCEPTION 'a post''s link and time never change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_post_fixed',
                  TABLE = 'deliverables';
    END IF;
    IF NEW.due_on IS DISTINCT FROM OLD.due_on AND OLD.status NOT IN ('agreed', 'draft_submitted', 'approved') THEN
        RAISE EXCEPTION 'the due day of a % deliverable is fixed', OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_due_fixed',
                  TABLE = 'deliverables';
    END IF;
    IF NEW.post_url IS NOT NULL AND OLD.post_url IS NULL THEN
        SELECT k.platform INTO platform FROM kols k WHERE k.id = NEW.kol_id FOR SHARE;
        IF kol_post_platform(NEW.post_url) IS DISTINCT FROM platform THEN
            RAISE EXCEPTION 'post % is not on the creator''s platform (%)', NEW.post_url, platform
                USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_post_on_platform',
                      TABLE = 'deliverables';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- A creator's platform is fixed once one of its deliverables is posted.
CREATE FUNCTION kols_platform_fixed() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.platform IS DISTINCT FROM OLD.platform
       AND EXISTS (SELECT 1 FROM deliverables WHERE kol_id = OLD.id AND post_url IS NOT NULL) THEN
        RAISE EXCEPTION 'creator % has posted deliverables on %: its platform is fixed', OLD.id, OLD.platform
            USING ERRCODE = 'check_violation', CONSTRAINT = 'kols_platform_fixed', TABLE = 'kols';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER kols_platform_fixed
    BEFORE UPDATE OF platform ON kols
    FOR EACH ROW EXECUTE FUNCTION kols_platform_fixed();
