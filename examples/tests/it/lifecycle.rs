//! The lifecycle example's story against a real database: two campaigns that share creators,
//! their reports, and an estimator that learns from the posts.

use kol_db::testing::TestDatabase;
use kol_examples::lifecycle::{LifecycleSettings, post_url, render, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_campaigns_from_brief_to_plan_versus_actual() {
    let t = TestDatabase::new().await.unwrap();
    let settings = LifecycleSettings {
        creators: 800,
        ..LifecycleSettings::default()
    };
    let outcome = run(t.db(), &settings).await.unwrap();
    assert_eq!(outcome.campaigns.len(), 2);
    assert!(!outcome.shared_creators.is_empty(), "the briefs overlap");
    for campaign in &outcome.campaigns {
        let r = &campaign.report;
        assert!(r.totals.confirmed > 0);
        assert!(r.totals.spend > 0 && r.totals.spend <= 250_000);
        assert!(r.totals.views > 0);
        assert!(r.totals.deliverables.posted > 0);
        assert_eq!(r.totals.deliverables.missed, 1, "one post is never made");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }
    let drops: usize = outcome
        .campaigns
        .iter()
        .map(|c| c.report.count_drops.len())
        .sum();
    assert!(drops > 0, "a platform's correction is flagged");
    let (plain, calibrated) = (
        outcome.backtest.plain.median_abs_log_error.unwrap(),
        outcome.backtest.calibrated.median_abs_log_error.unwrap(),
    );
    assert!(
        calibrated < plain,
        "calibrated {calibrated} against the rate cards' {plain}"
    );
    assert!(outcome.next_plan.calibrated_items > 0);
    let text = render(&outcome);
    assert!(text.contains("Glow Lab") && text.contains("Derma Plus"));
    assert!(serde_json::to_string(&outcome).is_ok());
    // Rows of the story are in the database: every message, post and snapshot.
    assert!(t.count("post_snapshots").await.unwrap() > 0);
    assert_eq!(t.count("campaigns").await.unwrap(), 2);
}

#[test]
fn post_links_are_valid_on_each_platform() {
    for platform in kol_core::Platform::ALL {
        let url = post_url(platform, "user.name_1", 7_300_000_000_000_000_123);
        assert!(
            kol_core::PostUrl::new(platform, &url).is_ok(),
            "{platform}: {url}"
        );
    }
}
