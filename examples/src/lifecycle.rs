//! The `lifecycle` example's logic: two campaigns of two brands, sharing creators, from brief
//! to plan-versus-actual, against PostgreSQL, and what the next plan learns from the posts.
//!
//! 1. A generated catalogue is imported (the same one as the `campaign` example's, smaller).
//! 2. Two campaigns: a serum launch for *Glow Lab* (a beauty brief) and a skincare week for
//!    *Derma Plus* (a beauty brief with some skincare in it, so some creators suit both). Each is
//!    planned from its brief (`search_candidates`, then `plan_candidates`), the plan saved, and
//!    the campaign started.
//! 3. Outreach to every planned creator: first message, proposal at the planned price, and
//!    agreement with two posts of the planned item due on the 10th and the 24th; a few creators
//!    decline and are dropped.
//! 4. Simulated days: each post goes up (a few late, one never), and metric snapshots arrive over
//!    the following days, out of order; one platform corrects its view count downwards.
//!    How well a creator performs is simulated too: each has a hidden factor (log-normal around
//!    1) by which its posts beat or miss its rate card's reach.
//! 5. Plan versus actual, per campaign ([`kol_core::CampaignReport`]).
//! 6. Learning: the posts become estimator history; [`kol_core::backtest`] holds out each
//!    creator's latest post and compares the rate card's figure with the calibrated estimate.
//!    On simulated creators with a real hidden factor the calibration has something to find;
//!    with real creators, run the same backtest on your own history before trusting it.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use kol_core::{
    CalibrationConfig, CampaignId, CampaignPeriod, CampaignReport, CampaignStatus, Channel,
    CoreError, Count, DeliverableStatus, Embedding, KolFilter, KolId, MessageBody, NewCampaign,
    NewDeliverable, NewSnapshot, PastPost, PlainText, Platform, PostMetrics, PriceThb, SearchMode,
    SearchRequest, Terms, TieredReach, backtest,
};
use kol_db::{Agreement, Database, DbError, ImportOptions, TransitionOptions};
use kol_optimizer::{Budget, CampaignOptions, Method, OptimizerError, plan_candidates};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use serde::Serialize;

use crate::catalogue::{CatalogueSpec, brief_for_category, category_centre};

/// Settings of the example.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleSettings {
    /// Creators in the generated catalogue.
    pub creators: usize,
    /// Seed of the catalogue and of the simulation.
    pub seed: u64,
    /// Candidates asked of the search, per campaign.
    pub candidates: usize,
    /// Budget of each campaign, in THB.
    pub budget: i64,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        Self {
            creators: 2_000,
            seed: 7,
            candidates: 60,
            budget: 250_000,
        }
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Db(#[from] DbError),
    /// A value was refused by kol-core.
    #[error("invalid value: {0}")]
    Core(#[from] CoreError),
    /// The optimizer refused the plan request.
    #[error("planning: {0}")]
    Plan(#[from] OptimizerError),
}

/// One campaign's story.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignRun {
    /// Its plan-versus-actual report.
    pub report: CampaignReport,
    /// Creators that declined and were dropped.
    pub declined: Vec<KolId>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct LifecycleOutcome {
    /// The two campaigns.
    pub campaigns: Vec<CampaignRun>,
    /// Creators planned in both.
    pub shared_creators: Vec<KolId>,
    /// Held-out posts: the rate card's figure against the calibrated estimate.
    pub backtest: kol_core::Backtest,
    /// The first brief planned again with the calibrated estimator.
    pub next_plan: NextPlan,
}

/// What the next plan for the first brief does with what the posts taught.
#[derive(Debug, Clone, Serialize)]
pub struct NextPlan {
    /// Creators in both the first plan and the next.
    pub kept: Vec<KolId>,
    /// Creators the next plan adds.
    pub added: Vec<KolId>,
    /// Creators the next plan leaves out.
    pub left_out: Vec<KolId>,
    /// Items whose reach came from the creator's own posts.
    pub calibrated_items: usize,
    /// The next plan's effective reach, with calibrated figures.
    pub effective_reach: f64,
}

/// The fixed calendar of the simulation (so that a run prints the same report every time).
fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, d).unwrap_or(NaiveDate::MIN)
}

fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(hour, 0, 0).unwrap_or_default())
}

/// A brief between two categories, `weight` parts of `a` to one of `b`.
fn blend(a: &str, b: &str, weight: f32) -> Result<Embedding, CoreError> {
    let (a, b) = (category_centre(a), category_centre(b));
    Embedding::new(a.iter().zip(&b).map(|(x, y)| weight * x + y).collect())
}

/// A link to a post by `username` on `platform`, in the form the platform uses.
pub fn post_url(platform: Platform, username: &str, post: u64) -> String {
    match platform {
        Platform::Tiktok => format!("https://www.tiktok.com/@{username}/video/{post}"),
        Platform::Instagram => format!("https://www.instagram.com/p/K{post:x}/"),
        Platform::Youtube => format!("https://www.youtube.com/shorts/Y{post:x}"),
        Platform::Facebook => format!("https://www.facebook.com/{username}/posts/{post}"),
        Platform::X => format!("https://x.com/{username}/status/{post}"),
        Platform::Threads => format!("https://www.threads.net/@{username}/post/T{post:x}"),
        Platform::Twitch => format!("https://www.twitch.tv/videos/{post}"),
        Platform::Lemon8 => format!("https://www.lemon8-app.com/@{username}/{post}"),
    }
}

/// Whether a platform reports distinct reach (the others report views only).
fn reports_reach(platform: Platform) -> bool {
    matches!(
        platform,
        Platform::Instagram | Platform::Facebook | Platform::Youtube
    )
}

/// Runs the story against `db` (migrated) and returns both reports and the backtest.
///
/// # Errors
/// Any database, validation or planning error, as it happened (the campaigns made so far stay).
pub async fn run(
    db: &Database,
    settings: &LifecycleSettings,
) -> Result<LifecycleOutcome, LifecycleError> {
    let spec = CatalogueSpec {
        seed: settings.seed,
        ..CatalogueSpec::with_creators(settings.creators)
    };
    db.import_catalogue(spec.generate(), &ImportOptions::default(), |_| {})
        .await?;
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ 0x11fe);
    let briefs = [
        (
            "Glow Lab serum launch",
            "Glow Lab",
            "A serum for sensitive skin, for Bangkok's humid days.",
            brief_for_category("beauty", settings.seed),
        ),
        (
            "Derma Plus skincare week",
            "Derma Plus",
            "A week of skincare routines with our cleanser.",
            blend("beauty", "skincare", 3.0)?,
        ),
    ];
    let first_brief = briefs[0].3.clone();
    let mut runs = Vec::new();
    let mut planned_by_campaign = Vec::new();
    for (name, client, brief, embedding) in briefs {
        let period = CampaignPeriod::new(day(1), day(31))?;
        let mut new = NewCampaign::new(
            PlainText::new(name)?,
            PlainText::new(client)?,
            PriceThb::new(settings.budget)?,
            period,
        );
        new.brief = Some(kol_core::BriefText::new(brief)?);
        new.brief_embedding = Some(embedding.clone());
        let campaign = db.create_campaign(&new).await?;
        let candidates = db.search_candidates(&request(embedding, settings)).await?;
        let plan = plan_candidates(&candidates, &options(settings, &TieredReach::default()))?;
        let record = plan.record()?;
        db.save_plan(campaign.id, &record).await?;
        db.set_campaign_status(campaign.id, CampaignStatus::Running)
            .await?;
        let declined = outreach(db, campaign.id, &record, &candidates, &mut rng).await?;
        simulate_posts(db, campaign.id, &mut rng).await?;
        db.set_campaign_status(campaign.id, CampaignStatus::Done)
            .await?;
        planned_by_campaign.push(record.items().iter().map(|i| i.kol_id).collect::<Vec<_>>());
        let report = db
            .campaign_report(
                campaign.id,
                at(NaiveDate::from_ymd_opt(2026, 11, 5).unwrap_or(day(31)), 0),
            )
            .await?;
        runs.push(CampaignRun { report, declined });
    }
    let shared_creators: Vec<KolId> = planned_by_campaign[0]
        .iter()
        .filter(|k| planned_by_campaign.get(1).is_some_and(|p| p.contains(k)))
        .copied()
        .collect();
    let history: Vec<PastPost> = runs.iter().flat_map(|r| r.report.past_posts()).collect();
    let backtest = backtest(CalibrationConfig::default(), &history);
    // The next plan for the first brief, with what the creators delivered.
    let calibrated = kol_core::CalibratedReach::from_history(&history);
    let candidates = db
        .search_candidates(&request(first_brief, settings))
        .await?;
    let next = plan_candidates(&candidates, &options(settings, &calibrated))?;
    let before = &planned_by_campaign[0];
    let after: Vec<KolId> = next.explanations.iter().map(|e| e.kol_id).collect();
    let next_plan = NextPlan {
        kept: after
            .iter()
            .filter(|k| before.contains(k))
            .copied()
            .collect(),
        added: after
            .iter()
            .filter(|k| !before.contains(k))
            .copied()
            .collect(),
        left_out: before
            .iter()
            .filter(|k| !after.contains(k))
            .copied()
            .collect(),
        calibrated_items: next
            .explanations
            .iter()
            .filter(|e| history.iter().any(|p| p.kol_id == e.kol_id))
            .count(),
        effective_reach: next.plan.total_effective_reach.people(),
    };
    Ok(LifecycleOutcome {
        campaigns: runs,
        shared_creators,
        backtest,
        next_plan,
    })
}

/// The search for a brief: Thai creators, exact.
fn request(brief: Embedding, settings: &LifecycleSettings) -> SearchRequest {
    SearchRequest {
        filter: KolFilter {
            countries: vec![kol_core::CountryCode::TH],
            ..KolFilter::default()
        },
        mode: SearchMode::Exact,
        ..SearchRequest::new(brief, settings.candidates)
    }
}

/// Greedy planning within the budget, reach by `estimator`.
fn options<'a>(
    settings: &LifecycleSettings,
    estimator: &'a dyn kol_core::ReachEstimator,
) -> CampaignOptions<'a> {
    CampaignOptions {
        method: Method::Greedy,
        ..CampaignOptions::new(Budget::new(settings.budget.unsigned_abs()), estimator)
    }
}

/// Contacts every planned creator, negotiates at the planned price and agrees two posts of the
/// planned item; about one in eight declines and is dropped. Returns who declined.
async fn outreach(
    db: &Database,
    campaign: CampaignId,
    plan: &kol_core::PlanRecord,
    candidates: &[kol_core::MatchedKol],
    rng: &mut ChaCha8Rng,
) -> Result<Vec<KolId>, LifecycleError> {
    let mut declined = Vec::new();
    for item in plan.items() {
        let name = candidates
            .iter()
            .find(|c| c.kol.id == item.kol_id)
            .and_then(|c| c.kol.profile.display_name.clone())
            .map_or_else(|| "there".to_owned(), |n| n.to_string());
        let opened = db
            .open_conversation(
                campaign,
                item.kol_id,
                Channel::Line,
                &MessageBody::new(format!(
                    "Hi {name}! We are planning a campaign in October. Interested in a {}?",
                    item.item
                ))?,
            )
            .await?;
        let id = opened.thread.conversation.id();
        if rng.random_range(0..8) == 0 {
            db.drop_kol(campaign, item.kol_id).await?;
            declined.push(item.kol_id);
            continue;
        }
        let terms = Terms::new(
            &format!("2 posts: {}", item.item),
            "10 and 24 October 2026",
            item.price,
        )?;
        db.propose_terms(id, terms.clone()).await?;
        let agreement = Agreement {
            deliverables: Some(vec![
                NewDeliverable {
                    item: item.item.clone(),
                    due_on: day(10),
                },
                NewDeliverable {
                    item: item.item.clone(),
                    due_on: day(24),
                },
            ]),
            ..Agreement::new(terms)
        };
        db.agree(id, &agreement, TransitionOptions::default())
            .await?;
    }
    Ok(declined)
}

/// Posts every deliverable of the campaign on its creator's platform (a few days late now and
/// then, one never) and records metric snapshots on the days after, out of order.
async fn simulate_posts(
    db: &Database,
    campaign: CampaignId,
    rng: &mut ChaCha8Rng,
) -> Result<(), LifecycleError> {
    let plan = db.campaign_plan(campaign).await?;
    let deliverables = db.deliverables(campaign).await?;
    let profiles = db
        .kols_by_ids(
            &deliverables
                .iter()
                .map(|d| d.parts().kol_id)
                .collect::<Vec<_>>(),
        )
        .await?;
    let noise = LogNormal::new(0.0, 0.15).map_err(|_| CoreError::InvalidPlan {
        reason: "noise".to_owned(),
    })?;
    let missed_one = deliverables.len() / 2;
    for (n, d) in deliverables.iter().enumerate() {
        let parts = d.parts();
        let Some(kol) = profiles.get(&parts.kol_id) else {
            continue;
        };
        if n == missed_one {
            db.set_deliverable_status(d.id(), DeliverableStatus::Missed)
                .await?;
            continue;
        }
        let platform = kol.profile.handle.platform();
        let late = if rng.random_range(0..6) == 0 { 3 } else { 0 };
        let posted_on = parts.due_on - Days::new(1) + Days::new(late);
        let posted_at = at(posted_on, 11);
        let url = post_url(
            platform,
            kol.profile.handle.username().as_str(),
            7_300_000_000_000_000_000 + d.id().get().unsigned_abs() * 7_919,
        );
        db.post_deliverable(d.id(), &url, posted_at).await?;
        // The creator's hidden factor (same for every post of the creator) and this post's luck.
        let factor = creator_factor(parts.kol_id);
        let promised = plan
            .as_ref()
            .and_then(|p| p.item_for(parts.kol_id))
            .map_or(1_000.0, |i| f64::from(i.est_reach.get()) / 2.0);
        let final_reach = promised * factor * noise.sample(rng);
        // Captures on days 1, 3 and 7 after the post, plus a late one from day 2 sent last.
        let mut captures = vec![(1, 0.55), (3, 0.85), (7, 1.0), (2, 0.7)];
        let corrected = n % 11 == 3;
        if corrected {
            captures.push((8, 0.93)); // the platform removed invalid views
        }
        for (days, share) in captures {
            let reach = final_reach * share;
            let views = reach * 1.25;
            let count = |x: f64| Count::new(x.round().max(0.0) as i64);
            let metrics = PostMetrics {
                views: count(views)?,
                likes: count(views * 0.06)?,
                comments: count(views * 0.004)?,
                shares: count(views * 0.002)?,
                saves: count(views * 0.003)?,
                reach: if reports_reach(platform) {
                    Some(count(reach)?)
                } else {
                    None
                },
            };
            let captured_at = posted_at + chrono::TimeDelta::days(days);
            db.record_snapshot(d.id(), &NewSnapshot::new(captured_at, metrics)?)
                .await?;
        }
        if rng.random_range(0..4) == 0 {
            db.set_deliverable_status(d.id(), DeliverableStatus::Verified)
                .await?;
        }
    }
    Ok(())
}

/// A creator's hidden performance factor: log-normal around 1, fixed per creator.
fn creator_factor(kol: KolId) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(kol.get().unsigned_abs() ^ 0xfac7);
    LogNormal::new(0.0, 0.5).map_or(1.0, |d| d.sample(&mut rng))
}

/// The outcome as text: each campaign's report table, the shared creators, and the backtest.
pub fn render(outcome: &LifecycleOutcome) -> String {
    let mut out = String::new();
    for run in &outcome.campaigns {
        out.push_str(&run.report.to_table());
        if !run.declined.is_empty() {
            let ids: Vec<String> = run.declined.iter().map(ToString::to_string).collect();
            out.push_str(&format!("declined and dropped: KOL {}\n", ids.join(", ")));
        }
        out.push('\n');
    }
    let shared: Vec<String> = outcome
        .shared_creators
        .iter()
        .map(ToString::to_string)
        .collect();
    out.push_str(&format!(
        "creators planned for both brands: {}\n\n",
        if shared.is_empty() {
            "none".to_owned()
        } else {
            shared.join(", ")
        }
    ));
    out.push_str("Learning from the posts (simulated creators with a hidden factor each):\n");
    out.push_str(&outcome.backtest.to_string());
    let ids = |v: &[KolId]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let next = &outcome.next_plan;
    out.push_str(&format!(
        "\nThe next plan for the first brief, with calibrated reach ({} of its items from the \
         creators' own posts): effective reach {:.0}\n  kept: {}\n  added: {}\n  left out: {}\n",
        next.calibrated_items,
        next.effective_reach,
        ids(&next.kept),
        ids(&next.added),
        ids(&next.left_out)
    ));
    out
}
