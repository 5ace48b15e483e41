DROP TRIGGER campaign_kols_check_agreement ON campaign_kols;
DROP FUNCTION campaign_kols_check_agreement();
