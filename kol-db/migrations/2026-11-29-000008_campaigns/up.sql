-- Campaigns: the unit an agency works in, for many clients at once. A campaign has a brief,
-- a budget, dates and a status; it keeps the plan it was given (copied, so later rate-card
-- changes never rewrite it); creators take part in it (shortlisted, planned, contacted,
-- confirmed, dropped); conversations belong to one campaign, and the outreach rule becomes one
-- open conversation per creator *per campaign*; each agreed post is a deliverable; posted
-- deliverables get append-only metric snapshots.
--
-- Conversations that exist before this migration move, with every message, into one campaign
-- named "Outreach before campaigns" (client "unassigned", status running, no budget limit:
-- 2,147,483,647 THB), each creator with the status of its latest conversation.

-- The platform a post link belongs to (kol-core's `Platform::from_post_host`): the host after
-- `http(s)://` and any user info, lower case, without trailing dots, one leading `www.` or `m.`
-- dropped. NULL when it is none of them.
CREATE FUNCTION kol_post_platform(url text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN (
        SELECT CASE
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
        FROM (SELECT h AS host, regexp_replace(h, '^www\.', '') AS bare
                FROM (SELECT rtrim(lower(substring(url FROM '^https?://(?:[^/\\?#@]*@)?([^/\\?#:]*)')), '.') AS h) AS x) AS y);

CREATE TABLE campaigns (
    id                   BIGSERIAL PRIMARY KEY,
    name                 TEXT NOT NULL,
    client               TEXT NOT NULL,
    brief                TEXT,
    brief_emb            VECTOR(512),
    budget_integer       INTEGER NOT NULL,
    starts_on            DATE NOT NULL,
    ends_on              DATE NOT NULL,
    status               TEXT NOT NULL DEFAULT 'draft',
    exclusive            BOOLEAN NOT NULL DEFAULT false,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT campaigns_name_text CHECK (kol_text_clean(name, 1000)),
    CONSTRAINT campaigns_client_text CHECK (kol_text_clean(client, 1000)),
    CONSTRAINT campaigns_brief_text CHECK (kol_text_clean(brief, 10000)),
    CONSTRAINT campaigns_brief_emb_norm_range CHECK (
        vector_norm(brief_emb) ^ 2 BETWEEN 1.1754943508222875e-38 AND 3.4028234663852886e38),
    CONSTRAINT campaigns_budget_non_negative CHECK (budget_integer >= 0),
    CONSTRAINT campaigns_period CHECK (
        starts_on <= ends_on AND starts_on >= '0001-01-01' AND ends_on <= '9999-12-31'),
    CONSTRAINT campaigns_status_known CHECK (
        status IN ('draft', 'planning', 'running', 'done', 'cancelled')),
    CONSTRAINT campaigns_created_at_valid CHECK (kol_time_valid(created_at))
);

CREATE INDEX campaigns_status_idx ON campaigns (status, id);
CREATE INDEX campaigns_client_idx ON campaigns (client);

-- The plan a campaign was given, as it was (kol-core's PlanRecord): its figures here, its items
-- in campaign_plan_items, one per creator, with the figures of the day.
CREATE TABLE campaign_plans (
    campaign_id     BIGINT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    mode            TEXT NOT NULL,
    budget_integer  INTEGER NOT NULL,
    effective_reach DOUBLE PRECISION NOT NULL,
    upper_bound     DOUBLE PRECISION NOT NULL,
    gap             DOUBLE PRECISION NOT NULL,
    planned_at      TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT campaign_plans_mode_known CHECK (mode IN ('greedy', 'exact', 'exact_best_so_far')),
    CONSTRAINT campaign_plans_figures CHECK (
        budget_integer >= 0
        AND effective_reach >= 0 AND effective_reach < 'Infinity'
        AND upper_bound >= 0 AND upper_bound < 'Infinity'
        AND gap >= 0 AND gap <= 1
        AND effective_reach <= upper_bound * (1 + 1e-6) + 1e-6),
    CONSTRAINT campaign_plans_planned_at_valid CHECK (kol_time_valid(planned_at))
);

CREATE TABLE campaign_plan_items (
    campaign_id     BIGINT NOT NULL REFERENCES campaign_plans (campaign_id) ON DELETE CASCADE,
    kol_id          BIGINT NOT NULL REFERENCES kols (id) ON DELETE RESTRICT,
    item            TEXT NOT NULL,
    price_integer   INTEGER NOT NULL,
    est_reach       INTEGER NOT NULL,
    reach_estimated BOOLEAN NOT NULL,
    effective_reach DOUBLE PRECISION NOT NULL,

    PRIMARY KEY (campaign_id, kol_id),
    CONSTRAINT campaign_plan_items_item_key UNIQUE (campaign_id, kol_id, item),
    CONSTRAINT campaign_plan_items_item_slug CHECK (item ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT campaign_plan_items_price_non_negative CHECK (price_integer >= 0),
    CONSTRAINT campaign_plan_items_est_reach_non_negative CHECK (est_reach >= 0),
    CONSTRAINT campaign_plan_items_effective_reach CHECK (
        effective_reach >= 0 AND effective_reach < 'Infinity')
);

CREATE INDEX campaign_plan_items_kol_id_idx ON campaign_plan_items (kol_id);

-- Creators in a campaign.
CREATE TABLE campaign_kols (
    campaign_id          BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE RESTRICT,
    kol_id               BIGINT NOT NULL REFERENCES kols (id) ON DELETE RESTRICT,
    status               TEXT NOT NULL DEFAULT 'shortlisted',
    -- What the campaign spends on the creator, set when it is confirmed.
    agreed_price_integer INTEGER,
    -- The confirmation was explicitly allowed to take the campaign over its budget.
    over_budget_approved BOOLEAN NOT NULL DEFAULT false,
    added_at             TIMESTAMPTZ NOT NULL DEFAULT now(),

    PRIMARY KEY (campaign_id, kol_id),
    CONSTRAINT campaign_kols_status_known CHECK (
        status IN ('shortlisted', 'planned', 'contacted', 'confirmed', 'dropped')),
    CONSTRAINT campaign_kols_confirmed_has_price CHECK (
        (status = 'confirmed') = (agreed_price_integer IS NOT NULL)),
    CONSTRAINT campaign_kols_price_non_negative CHECK (agreed_price_integer >= 0),
    CONSTRAINT campaign_kols_added_at_valid CHECK (kol_time_valid(added_at))
);

CREATE INDEX campaign_kols_kol_id_idx ON campaign_kols (kol_id, status);

-- Existing conversations move into one campaign, with their creators.

-- Its period spans every conversation (times outside the years 1..9999, which migration 7 keeps
-- from new rows, are left out of the dates).
INSERT INTO campaigns (name, client, budget_integer, starts_on, ends_on, status, created_at)
SELECT 'Outreach before campaigns', 'unassigned', 2147483647,
       least(min(created_at) FILTER (WHERE kol_time_valid(created_at))::date, current_date),
       greatest(max(last_message_at) FILTER (WHERE kol_time_valid(last_message_at))::date,
                max(created_at) FILTER (WHERE kol_time_valid(created_at))::date,
                current_date),
       'running',
       coalesce(min(created_at) FILTER (WHERE kol_time_valid(created_at)), now())
  FROM conversations
HAVING count(*) > 0;

-- The column arrives filled with that campaign's id as its default: no row is rewritten, so a
-- row that an unvalidated rule of migration 7 refuses (kept on purpose) is not refused here.
DO $$
DECLARE
    legacy bigint;
BEGIN
    SELECT id INTO legacy FROM campaigns; -- the only campaign yet: the one above, if any
    IF legacy IS NULL THEN
        ALTER TABLE conversations ADD COLUMN campaign_id BIGINT NOT NULL;
    ELSE
        EXECUTE format('ALTER TABLE conversations ADD COLUMN campaign_id BIGINT NOT NULL DEFAULT %s',
                       legacy);
        ALTER TABLE conversations ALTER COLUMN campaign_id DROP DEFAULT;
    END IF;
END
$$;

-- Each creator's status in that campaign comes from its latest conversation: open means
-- contacted; confirmed, or closed after an agreement, means confirmed at the agreed price;
-- closed without one means dropped. Earlier conversations stay as they are, with their messages.
INSERT INTO campaign_kols (campaign_id, kol_id, status, agreed_price_integer, added_at)
SELECT DISTINCT ON (campaign_id, kol_id)
       campaign_id, kol_id,
       CASE
           WHEN status IN ('contacted', 'negotiating') THEN 'contacted'
           WHEN agreed_price_integer IS NOT NULL THEN 'confirmed'
           ELSE 'dropped'
       END,
       CASE WHEN status NOT IN ('contacted', 'negotiating') THEN agreed_price_integer END,
       CASE WHEN kol_time_valid(created_at) THEN created_at ELSE now() END
  FROM conversations
 ORDER BY campaign_id, kol_id, created_at DESC, id DESC;

ALTER TABLE conversations
    ADD CONSTRAINT conversations_campaign_kol_fkey FOREIGN KEY (campaign_id, kol_id)
        REFERENCES campaign_kols (campaign_id, kol_id) ON DELETE RESTRICT,
    ADD CONSTRAINT conversations_id_campaign_kol_key UNIQUE (id, campaign_id, kol_id);

-- "One open conversation per creator" becomes "per creator per campaign".
DROP INDEX conversations_one_open_per_kol;
CREATE UNIQUE INDEX conversations_one_open_per_campaign_kol
    ON conversations (campaign_id, kol_id) WHERE status <> 'closed';
CREATE INDEX conversations_campaign_id_idx ON conversations (campaign_id, status);

-- Deliverables: each post a confirmed creator agreed to make, for an item of its plan entry.
CREATE TABLE deliverables (
    id              BIGSERIAL PRIMARY KEY,
    campaign_id     BIGINT NOT NULL,
    kol_id          BIGINT NOT NULL,
    conversation_id BIGINT NOT NULL,
    item            TEXT NOT NULL,
    due_on          DATE NOT NULL,
    status          TEXT NOT NULL DEFAULT 'agreed',
    post_url        TEXT,
    posted_at       TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT deliverables_campaign_kol_fkey FOREIGN KEY (campaign_id, kol_id)
        REFERENCES campaign_kols (campaign_id, kol_id) ON DELETE RESTRICT,
    -- Only an item of the creator's plan entry in that campaign.
    CONSTRAINT deliverables_planned_item_fkey FOREIGN KEY (campaign_id, kol_id, item)
        REFERENCES campaign_plan_items (campaign_id, kol_id, item) ON DELETE RESTRICT,
    -- The agreement it comes from: a conversation of that creator in that campaign.
    CONSTRAINT deliverables_conversation_fkey FOREIGN KEY (conversation_id, campaign_id, kol_id)
        REFERENCES conversations (id, campaign_id, kol_id) ON DELETE RESTRICT,
    CONSTRAINT deliverables_status_known CHECK (
        status IN ('agreed', 'draft_submitted', 'approved', 'posted', 'verified', 'missed')),
    CONSTRAINT deliverables_due_on_range CHECK (due_on BETWEEN '0001-01-01' AND '9999-12-31'),
    -- A post exactly when posted or verified: its link and its time.
    CONSTRAINT deliverables_post_when_posted CHECK (
        num_nulls(post_url, posted_at) = CASE WHEN status IN ('posted', 'verified') THEN 0 ELSE 2 END),
    CONSTRAINT deliverables_post_url_valid CHECK (kol_link_valid(post_url)),
    CONSTRAINT deliverables_posted_at_valid CHECK (kol_time_valid(posted_at)),
    CONSTRAINT deliverables_created_at_valid CHECK (kol_time_valid(created_at))
);

CREATE INDEX deliverables_campaign_kol_idx ON deliverables (campaign_id, kol_id);
CREATE INDEX deliverables_conversation_id_idx ON deliverables (conversation_id);

-- Metric snapshots of posted deliverables: append-only.
CREATE TABLE post_snapshots (
    id             BIGSERIAL PRIMARY KEY,
    deliverable_id BIGINT NOT NULL REFERENCES deliverables (id) ON DELETE RESTRICT,
    captured_at    TIMESTAMPTZ NOT NULL,
    views          BIGINT NOT NULL,
    likes          BIGINT NOT NULL,
    comments       BIGINT NOT NULL,
    shares         BIGINT NOT NULL,
    saves          BIGINT NOT NULL,
    -- Distinct people reached, when the platform reports it.
    reach          BIGINT,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT post_snapshots_counts_non_negative CHECK (
        views >= 0 AND likes >= 0 AND comments >= 0 AND shares >= 0 AND saves >= 0
        AND reach >= 0),
    CONSTRAINT post_snapshots_captured_at_valid CHECK (kol_time_valid(captured_at)),
    CONSTRAINT post_snapshots_recorded_at_valid CHECK (kol_time_valid(recorded_at))
);

-- One snapshot per post per capture time: a snapshot sent twice is stored once.
CREATE UNIQUE INDEX post_snapshots_deliverable_captured_key
    ON post_snapshots (deliverable_id, captured_at);

-- Campaign statuses move forward only (kol-core's CampaignStatus::can_transition_to); a new
-- campaign is a draft without a plan; what the client asked for and the plan are fixed once
-- the campaign runs.
CREATE FUNCTION campaigns_check() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'a campaign starts as a draft (not %)', NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'campaigns_start_draft',
                      TABLE = 'campaigns';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
           (OLD.status = 'draft' AND NEW.status = 'planning')
        OR (OLD.status = 'planning' AND NEW.status = 'running')
        OR (OLD.status = 'running' AND NEW.status = 'done')
        OR (OLD.status IN ('draft', 'planning', 'running') AND NEW.status = 'cancelled')) THEN
        RAISE EXCEPTION 'a campaign cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaigns_status_transition',
                  TABLE = 'campaigns';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'a campaign''s id and creation time never change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaigns_identity_fixed',
                  TABLE = 'campaigns';
    END IF;
    IF OLD.status NOT IN ('draft', 'planning') AND (
           NEW.name IS DISTINCT FROM OLD.name OR NEW.client IS DISTINCT FROM OLD.client
        OR NEW.brief IS DISTINCT FROM OLD.brief OR NEW.brief_emb IS DISTINCT FROM OLD.brief_emb
        OR NEW.budget_integer IS DISTINCT FROM OLD.budget_integer
        OR NEW.starts_on IS DISTINCT FROM OLD.starts_on OR NEW.ends_on IS DISTINCT FROM OLD.ends_on
        OR NEW.exclusive IS DISTINCT FROM OLD.exclusive) THEN
        RAISE EXCEPTION 'a % campaign''s brief, budget and dates are fixed', OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaigns_fixed_once_running',
                  TABLE = 'campaigns';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER campaigns_check
    BEFORE INSERT OR UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION campaigns_check();

-- A plan and its items change only while the campaign is a draft or being planned, and the items
-- never cost more than the plan's budget (checked at commit, after the whole plan is written).
CREATE FUNCTION campaign_plan_items_check() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    campaign_status text;
BEGIN
    SELECT status INTO campaign_status FROM campaigns
     WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.campaign_id ELSE NEW.campaign_id END;
    IF campaign_status NOT IN ('draft', 'planning') THEN
        RAISE EXCEPTION 'the plan of a % campaign is fixed', campaign_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_plans_fixed',
                  TABLE = TG_TABLE_NAME;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE TRIGGER campaign_plans_check
    BEFORE INSERT OR UPDATE OR DELETE ON campaign_plans
    FOR EACH ROW EXECUTE FUNCTION campaign_plan_items_check();
CREATE TRIGGER campaign_plan_items_check
    BEFORE INSERT OR UPDATE OR DELETE ON campaign_plan_items
    FOR EACH ROW EXECUTE FUNCTION campaign_plan_items_check();

CREATE FUNCTION campaign_plan_within_budget() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    c record;
    spend bigint;
BEGIN
    SELECT campaign_id, budget_integer INTO c FROM campaign_plans
     WHERE campaign_id = NEW.campaign_id;
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

CREATE CONSTRAINT TRIGGER campaign_plan_within_budget
    AFTER INSERT OR UPDATE ON campaign_plan_items
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION campaign_plan_within_budget();
CREATE CONSTRAINT TRIGGER campaign_plan_within_budget
    AFTER UPDATE ON campaign_plans
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION campaign_plan_within_budget();

-- What a campaign has committed to its confirmed creators, except `except_kol` (THB).
CREATE FUNCTION campaign_committed_thb(campaign bigint, except_kol bigint) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT coalesce(sum(agreed_price_integer), 0) FROM campaign_kols
             WHERE campaign_id = campaign AND status = 'confirmed' AND kol_id <> except_kol);

-- The first campaign of another client, not cancelled, in an overlapping period, for which the
-- creator is confirmed, when either that campaign or `campaign` is exclusive; NULL when none.
CREATE FUNCTION campaign_exclusivity_rival(campaign bigint, kol bigint) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT other.id
              FROM campaigns c
              JOIN campaign_kols ck ON ck.kol_id = kol AND ck.status = 'confirmed'
              JOIN campaigns other ON other.id = ck.campaign_id
             WHERE c.id = campaign AND other.id <> c.id AND other.client <> c.client
               AND other.status <> 'cancelled' AND (other.exclusive OR c.exclusive)
               AND other.starts_on <= c.ends_on AND c.starts_on <= other.ends_on
             ORDER BY other.id
             LIMIT 1);

-- Creators in a campaign: kol-core's CampaignKolStatus moves; changes only while the campaign
-- is open; a confirmation needs a running campaign, stays within the budget unless explicitly
-- approved, and respects exclusivity: a creator is not confirmed for two clients in
-- overlapping periods when either campaign is exclusive. Confirmations of one campaign are
-- serialized on the campaign's row, and of one creator on the creator's row, so two concurrent
-- ones cannot both slip under a limit.
CREATE FUNCTION campaign_kols_check() RETURNS trigger
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
    SELECT * INTO c FROM campaigns WHERE id = NEW.campaign_id;
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
        PERFORM 1 FROM campaigns WHERE id = NEW.campaign_id FOR NO KEY UPDATE;
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

CREATE TRIGGER campaign_kols_check
    BEFORE INSERT OR UPDATE OR DELETE ON campaign_kols
    FOR EACH ROW EXECUTE FUNCTION campaign_kols_check();

-- A conversation stays in its campaign, and opens only for a creator still in an open campaign.
CREATE FUNCTION conversations_check_campaign() RETURNS trigger
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
    IF NOT EXISTS (SELECT 1 FROM campaigns WHERE id = NEW.campaign_id
                                              AND status IN ('draft', 'planning', 'running')) THEN
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

CREATE TRIGGER conversations_check_campaign
    BEFORE INSERT OR UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_check_campaign();

-- Deliverables: created `agreed` for a confirmed creator from a confirmed conversation; kol-core's
-- DeliverableStatus moves; the post goes up on the creator's own platform and stays; never
-- deleted.
CREATE FUNCTION deliverables_check() RETURNS trigger
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
        SELECT k.platform INTO platform FROM kols k WHERE k.id = NEW.kol_id;
        IF kol_post_platform(NEW.post_url) IS DISTINCT FROM platform THEN
            RAISE EXCEPTION 'post % is not on the creator''s platform (%)', NEW.post_url, platform
                USING ERRCODE = 'check_violation', CONSTRAINT = 'deliverables_post_on_platform',
                      TABLE = 'deliverables';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER deliverables_check
    BEFORE INSERT OR UPDATE OR DELETE ON deliverables
    FOR EACH ROW EXECUTE FUNCTION deliverables_check();
CREATE TRIGGER deliverables_append_only_truncate
    BEFORE TRUNCATE ON deliverables
    FOR EACH STATEMENT EXECUTE FUNCTION kol_refuse_history_change();

-- Snapshots: only of a posted (or verified) deliverable, captured no earlier than the post;
-- never edited or deleted.
CREATE FUNCTION post_snapshots_check() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    SELECT status, posted_at INTO d FROM deliverables WHERE id = NEW.deliverable_id;
    IF d.status NOT IN ('posted', 'verified') THEN
        RAISE EXCEPTION 'deliverable % is %: only posts have metrics', NEW.deliverable_id, d.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'post_snapshots_of_posted',
                  TABLE = 'post_snapshots';
    END IF;
    IF NEW.captured_at < d.posted_at THEN
        RAISE EXCEPTION 'a snapshot captured at % is older than its post (%)', NEW.captured_at,
            d.posted_at
            USING ERRCODE = 'check_violation', CONSTRAINT = 'post_snapshots_after_post',
                  TABLE = 'post_snapshots';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER post_snapshots_check
    BEFORE INSERT ON post_snapshots
    FOR EACH ROW EXECUTE FUNCTION post_snapshots_check();
CREATE TRIGGER post_snapshots_append_only
    BEFORE UPDATE OR DELETE ON post_snapshots
    FOR EACH ROW EXECUTE FUNCTION kol_refuse_history_change();
CREATE TRIGGER post_snapshots_append_only_truncate
    BEFORE TRUNCATE ON post_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION kol_refuse_history_change();
