-- Back to one conversation per creator across the database. Refused (the unique index cannot
-- be built) while a creator has open conversations in two campaigns: close one first.

DROP TABLE post_snapshots;
DROP FUNCTION post_snapshots_check();
DROP TABLE deliverables;
DROP FUNCTION deliverables_check();

DROP TRIGGER conversations_check_campaign ON conversations;
DROP FUNCTION conversations_check_campaign();
DROP INDEX conversations_campaign_id_idx;
DROP INDEX conversations_one_open_per_campaign_kol;
CREATE UNIQUE INDEX conversations_one_open_per_kol ON conversations (kol_id) WHERE status <> 'closed';
ALTER TABLE conversations
    DROP CONSTRAINT conversations_id_campaign_kol_key,
    DROP CONSTRAINT conversations_campaign_kol_fkey,
    DROP COLUMN campaign_id;

DROP TRIGGER campaign_kols_check ON campaign_kols;
DROP FUNCTION campaign_kols_check();
DROP FUNCTION campaign_exclusivity_rival(bigint, bigint);
DROP FUNCTION campaign_committed_thb(bigint, bigint);
DROP TABLE campaign_kols;
DROP TABLE campaign_plan_items;
DROP TABLE campaign_plans;
DROP FUNCTION campaign_plan_within_budget();
DROP FUNCTION campaign_plan_items_check();
DROP TABLE campaigns;
DROP FUNCTION campaigns_check();
DROP FUNCTION kol_post_platform(text);
