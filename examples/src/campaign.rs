//! The `campaign` example's logic: from a brief, filters and a budget to a campaign plan, in
//! memory or through PostgreSQL, with the same answer.
//!
//! 1. The brief: a category (`--category beauty`: an embedding near that category's pictures),
//!    a real 512-d vector (`--brief FILE.npy`), or words (`--brief "skincare for sensitive skin"`)
//!    embedded by CLIP when a model folder is given (`--clip-model DIR` or `KOL_CLIP_MODEL`).
//! 2. The search: the `k` creators nearest to the brief that pass the filters (kol-core's
//!    [`KolSearch`]: kol-vector's [`MemoryCatalogue`] in memory, kol-db's [`Database`] with
//!    `DATABASE_URL`).
//! 3. The plan: kol-optimizer's [`plan_campaign`] over their rate cards within the budget.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kol_core::{
    AudienceShare, CatalogueEntry, Categories, Category, CountryCode, Embedding, FollowerTier,
    Followers, KolFilter, KolId, KolMatch, KolSearch, NewKol, NewRateCard, OutreachFilter,
    Platform, PriceThb, SearchMode, SearchRequest, TieredReach,
};
use kol_db::{Database, DatabaseUrl, ImportOptions};
use kol_optimizer::{
    Budget, CampaignOptions, CampaignPlan, ExactOptions, Frontier, Group, MatchedCreator, Method,
    Quota, SideConstraints, Weighting, campaign_problem, plan_campaign,
};
use kol_vector::MemoryCatalogue;
use serde::Serialize;

use crate::catalogue::{CATEGORIES, CatalogueSpec, brief_for_category};

/// Why the example cannot run. `Display` is one line for standard error.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// A command-line value is invalid (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// `--help` was asked for: the usage text, for standard output (exit code 0).
    #[error("{0}")]
    Help(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] kol_db::DbError),
    /// The in-memory search failed.
    #[error("search: {0}")]
    Vector(#[from] kol_vector::VectorError),
    /// The optimizer refused the plan.
    #[error("plan: {0}")]
    Plan(#[from] kol_optimizer::OptimizerError),
    /// CLIP failed to load or embed.
    #[error("CLIP: {0}")]
    Embed(#[from] kol_embed::EmbedError),
}

/// Where the brief comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum BriefSource {
    /// A category of the generated catalogue.
    Category(String),
    /// A float32 `.npy` file holding one 512-d vector.
    Vector(PathBuf),
    /// Words, embedded by CLIP.
    Text(String),
}

/// Everything the example needs, parsed from the command line.
#[derive(Debug, Clone)]
pub struct CampaignSettings {
    /// The brief.
    pub brief: BriefSource,
    /// The category used when a text brief cannot be embedded (no CLIP model).
    pub fallback_category: String,
    /// CLIP model folder, for text briefs.
    pub clip_model: Option<PathBuf>,
    /// Budget in THB.
    pub budget: u64,
    /// Search filters.
    pub filter: KolFilter,
    /// Creators considered for the plan (the search's `k`).
    pub candidates: usize,
    /// Exact or index-backed search.
    pub mode: SearchMode,
    /// Greedy or exact plan.
    pub method: Method,
    /// Weight reach by Thai audience share.
    pub weighting: Weighting,
    /// The generated catalogue (size and seed).
    pub catalogue: CatalogueSpec,
    /// IVF lists of the in-memory index (approximate mode).
    pub ivf_lists: usize,
    /// Compute the budget frontier and print it as a table (`--frontier`).
    pub frontier: bool,
    /// Write the budget frontier as an SVG chart here (`--chart FILE.svg`).
    pub chart: Option<PathBuf>,
    /// Budget points of the frontier (`--frontier-points`, default 21).
    pub frontier_points: usize,
    /// Largest budget of the frontier (`--frontier-max`, default twice the budget).
    pub frontier_max: Option<u64>,
    /// The mix the plan must respect (`--min-share`, `--max-share`, `--min-count`,
    /// `--max-count`, `--max-creator-share`, `--min-creators`, `--max-creators`, `--cover`;
    /// none by default).
    pub constraints: SideConstraints,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            brief: BriefSource::Category("beauty".into()),
            fallback_category: "beauty".into(),
            clip_model: None,
            budget: 300_000,
            filter: KolFilter::default(),
            candidates: 100,
            mode: SearchMode::Exact,
            method: Method::Exact(ExactOptions::default()),
            weighting: Weighting::TargetCountry,
            catalogue: CatalogueSpec::default(),
            ivf_lists: 100,
            frontier: false,
            chart: None,
            frontier_points: 21,
            frontier_max: None,
            constraints: SideConstraints::new(),
        }
    }
}

/// Parses a comma-separated list with `parse`, naming `flag` in errors.
fn list<T>(
    flag: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, CampaignError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).map_err(|e| CampaignError::Usage(format!("{flag}: {e}"))))
        .collect()
}

/// A quota group by name: a platform (tiktok, instagram...) or a follower tier (nano...mega).
fn group(name: &str) -> Result<Group, String> {
    let name = name.trim().to_lowercase();
    if let Ok(tier) = name.parse::<FollowerTier>() {
        return Ok(Group::Tier(tier));
    }
    name.parse::<Platform>()
        .map(Group::Platform)
        .map_err(|_| format!("{name:?} is neither a platform nor a follower tier"))
}

/// `GROUP=N[,GROUP=N]` pairs: a group and a whole number each (at most `max`), each group once,
/// at least one pair.
fn group_values(flag: &str, value: &str, max: u32) -> Result<Vec<(Group, u32)>, CampaignError> {
    let pairs = list(flag, value, |pair| {
        let (name, n) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not GROUP=N (e.g. tiktok=30, micro=10)"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|e| format!("{pair:?}: {n:?}: {e}"))?;
        if n > max {
            return Err(format!("{pair:?}: {n} is above {max}"));
        }
        Ok((group(name)?, n))
    })?;
    if pairs.is_empty() {
        return Err(CampaignError::Usage(format!(
            "{flag}: no GROUP=N given (e.g. tiktok=30, micro=10)"
        )));
    }
    for (k, (g, _)) in pairs.iter().enumerate() {
        if pairs[..k].iter().any(|(other, _)| other == g) {
            return Err(CampaignError::Usage(format!("{flag}: {g} is given twice")));
        }
    }
    Ok(pairs)
}

/// Sets one bound of the quota on `group`, creating the quota the first time.
fn set_quota(quotas: &mut Vec<Quota>, group: Group, set: impl FnOnce(&mut Quota)) {
    let at = match quotas.iter().position(|q| q.group == group) {
        Some(at) => at,
        None => {
            quotas.push(Quota::new(group));
            quotas.len() - 1
        }
    };
    set(&mut quotas[at]);
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, CampaignError>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|e| CampaignError::Usage(format!("{flag}: {value:?}: {e}")))
}

/// What the help text says after the options.
const AFTER_HELP: &str = "\
With DATABASE_URL set, the plan comes from PostgreSQL (the catalogue is imported first when the
database does not hold it); without it, everything runs in memory. Both give the same plan when
the database holds only the generated catalogue.";

/// The command line, as clap reads it. Values stay text here and are checked by
/// [`parse_args`], which names the flag in every message.
#[derive(Debug, clap::Parser)]
#[command(
    name = "campaign",
    about = "Plans a creator campaign for a brief, a budget and filters.",
    after_help = AFTER_HELP,
    args_override_self = true
)]
struct Cli {
    /// Brief: a category of the generated catalogue (default: beauty).
    #[arg(long, value_name = "NAME", help_heading = "Brief (one of)")]
    category: Option<String>,
    /// Brief: a float32 .npy file holding one 512-d vector, or words embedded by CLIP (needs
    /// --clip-model DIR or KOL_CLIP_MODEL; without a model: falls back to the category named in
    /// the words).
    #[arg(long, value_name = "FILE.npy|WORDS", help_heading = "Brief (one of)")]
    brief: Option<String>,
    /// Folder with config.json, model.safetensors, tokenizer.json.
    #[arg(long, value_name = "DIR", help_heading = "Brief (one of)")]
    clip_model: Option<PathBuf>,
    /// Budget in THB (default 300000).
    #[arg(
        long,
        value_name = "THB",
        help_heading = "Plan",
        allow_negative_numbers = true
    )]
    budget: Option<String>,
    /// Creators considered (default 100).
    #[arg(long, value_name = "K", help_heading = "Plan")]
    candidates: Option<String>,
    /// Search mode: exact or approx (default exact).
    #[arg(long, value_name = "exact|approx", help_heading = "Plan")]
    mode: Option<String>,
    /// Lists probed in approx mode (default 10).
    #[arg(long, value_name = "P", help_heading = "Plan")]
    probes: Option<String>,
    /// Plan method: greedy or exact (default exact).
    #[arg(long, value_name = "greedy|exact", help_heading = "Plan")]
    method: Option<String>,
    /// Do not weight reach by Thai audience share.
    #[arg(long, help_heading = "Plan")]
    no_th_weighting: bool,
    /// Creator countries (e.g. TH).
    #[arg(long, value_name = "CC[,CC]", help_heading = "Filters")]
    country: Option<String>,
    /// Platforms: tiktok, instagram, youtube, facebook, x...
    #[arg(long, value_name = "P[,P]", help_heading = "Filters")]
    platform: Option<String>,
    /// Any of these categories.
    #[arg(long, value_name = "C[,C]", help_heading = "Filters")]
    categories: Option<String>,
    /// Minimum followers.
    #[arg(long, value_name = "N", help_heading = "Filters")]
    min_followers: Option<String>,
    /// Maximum followers.
    #[arg(long, value_name = "N", help_heading = "Filters")]
    max_followers: Option<String>,
    /// Follower tiers: nano, micro, mid, macro, mega.
    #[arg(long, value_name = "T[,T]", help_heading = "Filters")]
    tier: Option<String>,
    /// Minimum Thai audience share (percent).
    #[arg(long, value_name = "N", help_heading = "Filters")]
    min_th_pct: Option<String>,
    /// At least one rate-card item at most this price.
    #[arg(long, value_name = "THB", help_heading = "Filters")]
    max_price: Option<String>,
    /// Outreach state: any, no-open or confirmed.
    #[arg(long, value_name = "any|no-open|confirmed", help_heading = "Filters")]
    outreach: Option<String>,
    /// Generated creators (default 5000).
    #[arg(long, value_name = "N", help_heading = "Catalogue and output")]
    creators: Option<String>,
    /// Generator seed (default 42).
    #[arg(long, value_name = "N", help_heading = "Catalogue and output")]
    seed: Option<String>,
    /// Print the plan as JSON.
    #[arg(long, help_heading = "Catalogue and output")]
    json: bool,
    /// Print the budget frontier (budget, reach, upper bound, gap, marginal reach) after the plan.
    #[arg(long, help_heading = "Catalogue and output")]
    frontier: bool,
    /// Write the budget frontier as an SVG chart (reach against budget, the bound as a band).
    #[arg(long, value_name = "FILE.svg", help_heading = "Catalogue and output")]
    chart: Option<PathBuf>,
    /// Budget points of the frontier (default 21).
    #[arg(long, value_name = "N", help_heading = "Catalogue and output")]
    frontier_points: Option<String>,
    /// Largest budget of the frontier (default twice the budget).
    #[arg(long, value_name = "THB", help_heading = "Catalogue and output")]
    frontier_max: Option<String>,
    /// At least this percent of the spend on a platform or tier (e.g. tiktok=30).
    #[arg(
        long,
        value_name = "GROUP=PCT[,..]",
        help_heading = "Mix (side constraints)"
    )]
    min_share: Option<String>,
    /// At most this percent of the spend on a platform or tier (e.g. youtube=50).
    #[arg(
        long,
        value_name = "GROUP=PCT[,..]",
        help_heading = "Mix (side constraints)"
    )]
    max_share: Option<String>,
    /// At least this many creators of a platform or tier (e.g. micro=10).
    #[arg(
        long,
        value_name = "GROUP=N[,..]",
        help_heading = "Mix (side constraints)"
    )]
    min_count: Option<String>,
    /// At most this many creators of a platform or tier (e.g. mega=2).
    #[arg(
        long,
        value_name = "GROUP=N[,..]",
        help_heading = "Mix (side constraints)"
    )]
    max_count: Option<String>,
    /// No creator's item above this percent of the budget.
    #[arg(
        long,
        value_name = "PCT",
        help_heading = "Mix (side constraints)",
        allow_negative_numbers = true
    )]
    max_creator_share: Option<String>,
    /// At least this many creators booked.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Mix (side constraints)",
        allow_negative_numbers = true
    )]
    min_creators: Option<String>,
    /// At most this many creators booked.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Mix (side constraints)",
        allow_negative_numbers = true
    )]
    max_creators: Option<String>,
    /// Categories at least one booked creator must cover (e.g. beauty,skincare).
    #[arg(long, value_name = "C[,C]", help_heading = "Mix (side constraints)")]
    cover: Option<String>,
}

/// The usage text (clap's help).
pub fn usage() -> String {
    <Cli as clap::CommandFactory>::command()
        .render_help()
        .to_string()
}

/// Parses the command line (without the program name). Returns the settings and whether JSON
/// output was asked for.
///
/// # Errors
/// [`CampaignError::Usage`] naming the offending flag; [`CampaignError::Help`] for `--help`.
pub fn parse_args<I: IntoIterator<Item = String>>(
    args: I,
) -> Result<(CampaignSettings, bool), CampaignError> {
    use clap::Parser as _;
    let argv = std::iter::once("campaign".to_owned()).chain(args);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            return Err(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    CampaignError::Help(e.render().to_string().trim_end().to_owned())
                }
                _ => CampaignError::Usage(
                    e.render()
                        .to_string()
                        .trim_end()
                        .trim_start_matches("error: ")
                        .to_owned(),
                ),
            });
        }
    };
    let mut s = CampaignSettings::default();
    let mut probes = 10u32;
    let mut approx = false;
    let category = cli.category.map(|c| c.trim().to_lowercase());
    if let Some(v) = cli.brief {
        s.brief = if v.ends_with(".npy") {
            BriefSource::Vector(v.into())
        } else {
            BriefSource::Text(v)
        };
    }
    s.clip_model = cli.clip_model;
    if let Some(v) = cli.budget {
        s.budget = number("--budget", &v)?;
    }
    if let Some(v) = cli.candidates {
        s.candidates = number("--candidates", &v)?;
    }
    if let Some(v) = cli.mode {
        match v.as_str() {
            "exact" => approx = false,
            "approx" | "approximate" | "ivf" => approx = true,
            other => {
                return Err(CampaignError::Usage(format!(
                    "--mode: {other:?} is not exact or approx"
                )));
            }
        }
    }
    if let Some(v) = cli.probes {
        probes = number("--probes", &v)?;
    }
    if let Some(v) = cli.method {
        s.method = match v.as_str() {
            "greedy" => Method::Greedy,
            "exact" => Method::Exact(ExactOptions::default()),
            other => {
                return Err(CampaignError::Usage(format!(
                    "--method: {other:?} is not greedy or exact"
                )));
            }
        }
    }
    if cli.no_th_weighting {
        s.weighting = Weighting::Off;
    }
    if let Some(v) = cli.country {
        s.filter.countries = list("--country", &v, |c| {
            CountryCode::new(c).map_err(|e| e.to_string())
        })?;
    }
    if let Some(v) = cli.platform {
        s.filter.platforms = list("--platform", &v, |p| {
            p.parse::<Platform>().map_err(|e| e.to_string())
        })?;
    }
    if let Some(v) = cli.categories {
        let tags = list("--categories", &v, |c| Ok(c.to_owned()))?;
        s.filter.categories_any = Categories::parse(tags)
            .map_err(|e| CampaignError::Usage(format!("--categories: {e}")))?;
    }
    if let Some(v) = cli.min_followers {
        s.filter.min_followers = Some(
            Followers::new(number("--min-followers", &v)?)
                .map_err(|e| CampaignError::Usage(format!("--min-followers: {e}")))?,
        );
    }
    if let Some(v) = cli.max_followers {
        s.filter.max_followers = Some(
            Followers::new(number("--max-followers", &v)?)
                .map_err(|e| CampaignError::Usage(format!("--max-followers: {e}")))?,
        );
    }
    if let Some(v) = cli.tier {
        s.filter.tiers = list("--tier", &v, |t| {
            t.parse::<FollowerTier>().map_err(|e| e.to_string())
        })?;
    }
    if let Some(v) = cli.min_th_pct {
        s.filter.min_audience_th_pct = Some(
            AudienceShare::new(number("--min-th-pct", &v)?)
                .map_err(|e| CampaignError::Usage(format!("--min-th-pct: {e}")))?,
        );
    }
    if let Some(v) = cli.max_price {
        s.filter.max_item_price = Some(
            PriceThb::new(number("--max-price", &v)?)
                .map_err(|e| CampaignError::Usage(format!("--max-price: {e}")))?,
        );
    }
    if let Some(v) = cli.outreach {
        s.filter.outreach = match v.as_str() {
            "any" => OutreachFilter::Any,
            "no-open" => OutreachFilter::NoOpenConversation,
            "confirmed" => OutreachFilter::ConfirmedOnly,
            other => {
                return Err(CampaignError::Usage(format!(
                    "--outreach: {other:?} is not any, no-open or confirmed"
                )));
            }
        }
    }
    if let Some(v) = cli.creators {
        s.catalogue.creators = number("--creators", &v)?;
    }
    if let Some(v) = cli.seed {
        s.catalogue.seed = number("--seed", &v)?;
    }
    s.frontier = cli.frontier;
    s.chart = cli.chart;
    if let Some(v) = cli.frontier_points {
        s.frontier_points = number("--frontier-points", &v)?;
        if s.frontier_points == 0 || s.frontier_points > 1_000 {
            return Err(CampaignError::Usage(
                "--frontier-points: must be 1..=1000".into(),
            ));
        }
    }
    if let Some(v) = cli.frontier_max {
        s.frontier_max = Some(number("--frontier-max", &v)?);
    }
    let quotas = &mut s.constraints.quotas;
    for (flag, value, max) in [
        ("--min-share", &cli.min_share, 100),
        ("--max-share", &cli.max_share, 100),
        ("--min-count", &cli.min_count, u32::MAX),
        ("--max-count", &cli.max_count, u32::MAX),
    ] {
        let Some(value) = value else { continue };
        for (g, n) in group_values(flag, value, max)? {
            set_quota(quotas, g, |q| match flag {
                "--min-share" => q.min_share_pct = Some(n),
                "--max-share" => q.max_share_pct = Some(n),
                "--min-count" => q.min_count = Some(n),
                _ => q.max_count = Some(n),
            });
        }
    }
    if let Some(v) = cli.max_creator_share {
        let pct: u32 = number("--max-creator-share", &v)?;
        if !(1..=100).contains(&pct) {
            return Err(CampaignError::Usage(format!(
                "--max-creator-share: {pct} is not a percent of the budget from 1 to 100"
            )));
        }
        s.constraints.max_creator_share_pct = Some(pct);
    }
    if let Some(v) = cli.min_creators {
        s.constraints.min_creators = Some(number("--min-creators", &v)?);
    }
    if let Some(v) = cli.max_creators {
        s.constraints.max_creators = Some(number("--max-creators", &v)?);
    }
    if let Some(v) = cli.cover {
        let categories = list("--cover", &v, |c| {
            Category::new(c).map_err(|e| e.to_string())
        })?;
        if categories.is_empty() {
            return Err(CampaignError::Usage("--cover: no category given".into()));
        }
        for (k, c) in categories.iter().enumerate() {
            if categories[..k].contains(c) {
                return Err(CampaignError::Usage(format!("--cover: {c} is given twice")));
            }
        }
        s.constraints.categories = categories;
    }
    if let Some(c) = category {
        if !CATEGORIES.contains(&c.as_str()) {
            return Err(CampaignError::Usage(format!(
                "--category: unknown category {c:?} (one of: {})",
                CATEGORIES.join(", ")
            )));
        }
        if matches!(s.brief, BriefSource::Category(_)) {
            s.brief = BriefSource::Category(c.clone());
        }
        s.fallback_category = c;
    }
    if s.candidates == 0 || s.candidates > 10_000 {
        return Err(CampaignError::Usage(
            "--candidates: must be 1..=10000".into(),
        ));
    }
    if s.catalogue.creators == 0 {
        return Err(CampaignError::Usage(
            "--creators: must be at least 1".into(),
        ));
    }
    if approx {
        if probes == 0 {
            return Err(CampaignError::Usage("--probes: must be at least 1".into()));
        }
        s.mode = SearchMode::approximate(probes);
    }
    Ok((s, cli.json))
}

/// Reads a float32 `.npy` holding one 512-d vector (shape `[512]` or `[1, 512]`). The header is
/// checked against the file before anything is allocated ([`crate::npy`]), so a file whose
/// header claims a huge array is refused, not read.
///
/// # Errors
/// [`CampaignError::Usage`] naming the file (exit code 2).
pub fn read_brief_npy(path: &Path) -> Result<Embedding, CampaignError> {
    let bad = |why: String| CampaignError::Usage(format!("--brief {}: {why}", path.display()));
    let max_bytes = (Embedding::DIM * std::mem::size_of::<f32>()) as u64;
    let array = crate::npy::read_f32::<ndarray::IxDyn>(path, max_bytes).map_err(|e| match e {
        crate::npy::NpyError::TooLarge { shape, .. } => bad(format!(
            "expected one {}-value vector, got shape {shape:?}",
            Embedding::DIM
        )),
        other => bad(other.to_string()),
    })?;
    let values: Vec<f32> = match array.shape() {
        [_] | [1, _] => array.iter().copied().collect(),
        shape => return Err(bad(format!("expected one vector, got shape {shape:?}"))),
    };
    Embedding::new(values).map_err(|e| bad(e.to_string()))
}

/// The brief embedding and a description of it; notes (such as a fallback) go to `notes`.
/// `clip_model` is the CLIP folder for text briefs (see
/// [`kol_embed::model_dir_from_env_or_arg`]).
///
/// # Errors
/// Unreadable `.npy` files, CLIP failures.
pub fn brief_embedding(
    s: &CampaignSettings,
    clip_model: Option<PathBuf>,
    notes: &mut Vec<String>,
) -> Result<(Embedding, String), CampaignError> {
    match &s.brief {
        BriefSource::Category(c) => Ok((brief_for_category(c, 1), format!("category {c}"))),
        BriefSource::Vector(p) => Ok((read_brief_npy(p)?, format!("vector {}", p.display()))),
        BriefSource::Text(text) => match clip_model {
            Some(dir) => {
                use kol_embed::Embedder;
                let clip = kol_embed::ClipEmbedder::from_dir(&dir)?;
                Ok((
                    clip.embed_text(text)?,
                    format!("text {text:?} (CLIP, {})", dir.display()),
                ))
            }
            None => {
                let lower = text.to_lowercase();
                let category = CATEGORIES
                    .iter()
                    .find(|c| lower.contains(*c))
                    .map_or(s.fallback_category.clone(), |c| (*c).to_owned());
                notes.push(format!(
                    "no CLIP model (--clip-model DIR or {}): using the category brief {category:?} instead.\n{}",
                    kol_embed::MODEL_DIR_ENV,
                    kol_embed::HOW_TO_GET_THE_MODEL
                ));
                Ok((
                    brief_for_category(&category, 1),
                    format!("category {category} (fallback for {text:?})"),
                ))
            }
        },
    }
}

/// One row of the plan, ready to print.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    /// The creator's handle (`platform:@username`).
    pub creator: String,
    /// Followers.
    pub followers: Option<u32>,
    /// Thai audience share, percent.
    pub th_audience_pct: Option<u8>,
    /// The item bought.
    pub item: String,
    /// Its price, THB.
    pub price: u32,
    /// Its reach (rate card, or estimated).
    pub reach: u32,
    /// Whether the reach was estimated from followers.
    pub reach_estimated: bool,
    /// Relevance to the brief (`1 - distance`).
    pub relevance: f64,
    /// Effective reach (reach x TH share x relevance).
    pub effective_reach: f64,
    /// Effective reach per THB.
    pub reach_per_thb: Option<f64>,
}

/// What the example prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignReport {
    /// `memory` or `postgres`.
    pub backend: &'static str,
    /// The brief, described.
    pub brief: String,
    /// Creators that matched the search (at most `--candidates`).
    pub matched: usize,
    /// The plan's rows.
    pub rows: Vec<PlanRow>,
    /// Budget, THB.
    pub budget: u64,
    /// Spent, THB.
    pub spent: u64,
    /// Left, THB.
    pub remaining: u64,
    /// Total effective reach.
    pub total_effective_reach: f64,
    /// No plan within the budget reaches more.
    pub upper_bound: f64,
    /// `1 - reach / upper_bound`.
    pub gap: f64,
    /// `greedy`, `exact` or `exact_best_so_far`.
    pub mode: String,
    /// The budget frontier, when asked for (`--frontier` or `--chart`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontier: Option<Frontier>,
}

/// Plans over the matched creators.
fn report(
    backend: &'static str,
    brief: String,
    settings: &CampaignSettings,
    matches: &[KolMatch],
    profiles: &BTreeMap<KolId, (NewKol, Vec<NewRateCard>)>,
) -> Result<CampaignReport, CampaignError> {
    let creators: Vec<MatchedCreator<'_>> = matches
        .iter()
        .filter_map(|m| {
            profiles
                .get(&m.kol_id)
                .map(|(profile, cards)| MatchedCreator {
                    matched: *m,
                    profile,
                    rate_cards: cards,
                })
        })
        .collect();
    let estimator = TieredReach::default();
    let options = CampaignOptions {
        method: settings.method,
        weighting: settings.weighting,
        constraints: settings.constraints.clone(),
        ..CampaignOptions::new(Budget::new(settings.budget), &estimator)
    };
    let CampaignPlan { plan, explanations } = plan_campaign(&creators, &options)?;
    let frontier = if settings.frontier || settings.chart.is_some() {
        let max = settings
            .frontier_max
            .unwrap_or_else(|| settings.budget.saturating_mul(2))
            .max(1);
        let problem = campaign_problem(&creators, &options)?;
        Some(problem.frontier(
            Budget::new(0),
            Budget::new(max),
            settings.frontier_points,
            settings.method,
        )?)
    } else {
        None
    };
    let rows = explanations
        .iter()
        .filter_map(|e| {
            let (profile, _) = profiles.get(&e.kol_id)?;
            Some(PlanRow {
                creator: profile.handle.to_string(),
                followers: profile.followers.map(Followers::get),
                th_audience_pct: e.audience_th_pct.map(AudienceShare::percent),
                item: e.item.to_string(),
                price: e.price.get(),
                reach: e.est_reach.get(),
                reach_estimated: e.reach_estimated,
                relevance: e.relevance,
                effective_reach: e.effective_reach,
                reach_per_thb: e.reach_per_thb,
            })
        })
        .collect();
    Ok(CampaignReport {
        backend,
        brief,
        matched: matches.len(),
        rows,
        budget: settings.budget,
        spent: plan.spent,
        remaining: plan.remaining,
        total_effective_reach: plan.total_effective_reach.people(),
        upper_bound: plan.upper_bound.people(),
        gap: plan.gap,
        mode: plan.mode.to_string(),
        frontier,
    })
}

/// The search request of the settings.
fn request(settings: &CampaignSettings, query: Embedding) -> SearchRequest {
    SearchRequest {
        query,
        k: settings.candidates,
        filter: settings.filter.clone(),
        mode: settings.mode,
    }
}

/// Runs in memory over the generated catalogue.
///
/// # Errors
/// Search and planning errors.
pub fn run_in_memory(
    settings: &CampaignSettings,
    brief: Embedding,
    description: String,
) -> Result<CampaignReport, CampaignError> {
    let entries: Vec<CatalogueEntry> = settings.catalogue.generate().collect();
    let mut catalogue = MemoryCatalogue::from_entries(entries)?;
    if let SearchMode::Approximate { .. } = settings.mode {
        let lists = settings.ivf_lists.min(catalogue.media_count()).max(1);
        catalogue.build_ivf(lists, settings.catalogue.seed)?;
    }
    let matches = catalogue.search(&request(settings, brief))?;
    let profiles = matches
        .iter()
        .filter_map(|m| {
            catalogue
                .kol(m.kol_id)
                .map(|k| (m.kol_id, (k.profile.clone(), k.rate_cards.clone())))
        })
        .collect();
    report("memory", description, settings, &matches, &profiles)
}

/// Runs through PostgreSQL: migrations, import of the generated catalogue unless the database
/// already holds it (progress on standard error), search, plan.
///
/// # Errors
/// Database and planning errors.
pub async fn run_in_postgres(
    settings: &CampaignSettings,
    url: DatabaseUrl,
    brief: Embedding,
    description: String,
) -> Result<CampaignReport, CampaignError> {
    let db = Database::connect(url).await?;
    db.run_migrations().await?;
    let first = settings.catalogue.generate().next().map(|e| e.kol.handle);
    let present = match &first {
        Some(h) => db.kol_by_handle(h).await.is_ok(),
        None => true,
    };
    if !present || db.count_kols().await? < settings.catalogue.creators as u64 {
        eprintln!(
            "importing {} generated creators (seed {})",
            settings.catalogue.creators, settings.catalogue.seed
        );
        let bar = ProgressBar::new();
        db.import_catalogue(
            settings.catalogue.generate(),
            &ImportOptions::default(),
            |p| bar.draw(p),
        )
        .await?;
        eprintln!();
    }
    let stored = db.count_kols().await?;
    if stored > settings.catalogue.creators as u64 {
        eprintln!(
            "campaign: the database holds {stored} creators, more than the {} generated ones: \
             the search runs over all of them, so the plan may differ from the in-memory run",
            settings.catalogue.creators
        );
    }
    let search = request(settings, brief);
    let matches = KolSearch::search_kols(&db, &search).await?;
    let ids: Vec<KolId> = matches.iter().map(|m| m.kol_id).collect();
    let kols = db.kols_by_ids(&ids).await?;
    let mut cards = db.rate_cards_for(&ids).await?;
    let profiles = kols
        .into_iter()
        .map(|(id, k)| {
            let rate_cards = cards
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.card)
                .collect();
            (id, (k.profile, rate_cards))
        })
        .collect();
    report("postgres", description, settings, &matches, &profiles)
}

/// A one-line progress bar on standard error.
struct ProgressBar {
    started: std::time::Instant,
}

impl ProgressBar {
    fn new() -> Self {
        Self {
            started: std::time::Instant::now(),
        }
    }

    fn draw(&self, p: &kol_db::ImportProgress) {
        let total = p.total.unwrap_or(p.creators).max(1);
        let done = (p.creators * 30 / total) as usize;
        let phase = match p.phase {
            kol_db::ImportPhase::Loading => "loading",
            kol_db::ImportPhase::Indexing => "indexing",
            kol_db::ImportPhase::Done => "done",
        };
        eprint!(
            "\r  [{}{}] {:>3}%  {} / {} creators  {:>5.1} s  {phase:<8}",
            "#".repeat(done),
            "-".repeat(30 - done.min(30)),
            p.creators * 100 / total,
            p.creators,
            total,
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// The report as a table.
pub fn render_table(r: &CampaignReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "brief: {} ({} backend); {} creators matched",
        r.brief, r.backend, r.matched
    );
    let _ = writeln!(
        out,
        "{:<26} {:>10} {:>5}  {:<14} {:>9} {:>10} {:>9} {:>12}",
        "creator", "followers", "TH", "item", "price", "reach", "relevance", "eff. reach"
    );
    for row in &r.rows {
        let followers = row.followers.map_or("-".into(), |f| f.to_string());
        let th = row.th_audience_pct.map_or("-".into(), |p| format!("{p}%"));
        let reach = if row.reach_estimated {
            format!("~{}", row.reach)
        } else {
            row.reach.to_string()
        };
        let _ = writeln!(
            out,
            "{:<26} {:>10} {:>5}  {:<14} {:>9} {:>10} {:>9.3} {:>12.0}",
            row.creator,
            followers,
            th,
            row.item,
            row.price,
            reach,
            row.relevance,
            row.effective_reach
        );
    }
    let _ = writeln!(
        out,
        "{} creators, spent {} of {} THB ({} left); effective reach {:.0}",
        r.rows.len(),
        r.spent,
        r.budget,
        r.remaining,
        r.total_effective_reach
    );
    let _ = writeln!(
        out,
        "upper bound {:.0}, gap {:.4}% ({} plan)",
        r.upper_bound,
        r.gap * 100.0,
        r.mode
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(CampaignSettings, bool), CampaignError> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn arguments_parse_into_filters() {
        let (s, json) = parse(&[
            "--category",
            "gaming",
            "--budget",
            "150_000",
            "--country",
            "TH",
            "--platform",
            "tiktok,instagram",
            "--tier",
            "micro,mid",
            "--min-th-pct",
            "60",
            "--max-price",
            "20000",
            "--outreach",
            "no-open",
            "--mode",
            "approx",
            "--probes",
            "8",
            "--json",
        ])
        .unwrap();
        assert!(json);
        assert_eq!(s.brief, BriefSource::Category("gaming".into()));
        assert_eq!(s.budget, 150_000);
        assert_eq!(s.filter.countries, vec![CountryCode::TH]);
        assert_eq!(
            s.filter.platforms,
            vec![Platform::Tiktok, Platform::Instagram]
        );
        assert_eq!(s.filter.tiers, vec![FollowerTier::Micro, FollowerTier::Mid]);
        assert_eq!(s.filter.outreach, OutreachFilter::NoOpenConversation);
        assert_eq!(s.mode, SearchMode::approximate(8));
    }

    #[test]
    fn mix_flags_parse_into_side_constraints() {
        let (s, _) = parse(&[
            "--min-share",
            "tiktok=30",
            "--max-share",
            "TikTok=80,youtube=50",
            "--min-count",
            "micro=10",
            "--max-count",
            "mega=2",
            "--max-creator-share",
            "15",
            "--min-creators",
            "5",
            "--max-creators",
            "40",
            "--cover",
            "beauty, skincare",
        ])
        .unwrap();
        let c = &s.constraints;
        assert_eq!(
            c.quotas,
            vec![
                Quota::new(Group::Platform(Platform::Tiktok)).share_pct(Some(30), Some(80)),
                Quota::new(Group::Platform(Platform::Youtube)).share_pct(None, Some(50)),
                Quota::new(Group::Tier(FollowerTier::Micro)).count(Some(10), None),
                Quota::new(Group::Tier(FollowerTier::Mega)).count(None, Some(2)),
            ]
        );
        assert_eq!(c.max_creator_share_pct, Some(15));
        assert_eq!((c.min_creators, c.max_creators), (Some(5), Some(40)));
        assert_eq!(
            c.categories,
            vec![
                Category::new("beauty").unwrap(),
                Category::new("skincare").unwrap()
            ]
        );
        assert!(parse(&[]).unwrap().0.constraints.is_empty());
    }

    #[test]
    fn help_is_not_a_usage_error() {
        for flag in ["--help", "-h"] {
            match parse(&["--budget", "5", flag]) {
                Err(CampaignError::Help(text)) => assert!(text.contains("--budget"), "{text}"),
                other => panic!("{flag}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_arguments_name_the_flag() {
        for (args, flag) in [
            (vec!["--category", "knitting"], "--category"),
            (vec!["--budget", "-5"], "--budget"),
            (vec!["--country", "XX"], "--country"),
            (vec!["--min-th-pct", "120"], "--min-th-pct"),
            (vec!["--mode", "fast"], "--mode"),
            (vec!["--outreach", "maybe"], "--outreach"),
            (vec!["--budget"], "--budget"),
            (vec!["--frobnicate"], "--frobnicate"),
            (vec!["--min-share", "tiktok"], "--min-share"),
            (vec!["--min-share", "knitting=30"], "--min-share"),
            (vec!["--max-count", "mega=-1"], "--max-count"),
            (vec!["--max-creator-share", "lots"], "--max-creator-share"),
            (vec!["--cover", "a{b}"], "--cover"),
            (vec!["--cover", ","], "--cover"),
            (vec!["--cover", "beauty,Beauty"], "--cover"),
            (vec!["--min-share", "tiktok=150"], "--min-share"),
            (vec!["--min-share", "tiktok=30,TikTok=0"], "--min-share"),
            (vec!["--max-share", ","], "--max-share"),
            (vec!["--max-creator-share", "0"], "--max-creator-share"),
            (vec!["--max-creator-share", "101"], "--max-creator-share"),
            (vec!["--min-creators", "-1"], "--min-creators"),
        ] {
            let err = parse(&args).unwrap_err().to_string();
            assert!(err.contains(flag), "{args:?}: {err}");
        }
    }

    #[test]
    fn a_text_brief_without_a_model_falls_back_to_the_category_it_names() {
        let (s, _) = parse(&["--brief", "skincare for sensitive skin, Bangkok"]).unwrap();
        let mut notes = Vec::new();
        let (e, description) = brief_embedding(&s, None, &mut notes).unwrap();
        assert_eq!(e, brief_for_category("skincare", 1));
        assert!(description.contains("skincare"));
        assert!(notes[0].contains("no CLIP model"));
    }

    #[test]
    fn a_text_brief_with_a_model_is_embedded_by_clip() {
        let fixture = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../kol-embed/tests/fixtures/tiny-clip"
        ));
        let (s, _) = parse(&["--brief", "ครีมกันแดด for sensitive skin"]).unwrap();
        let mut notes = Vec::new();
        let (e, description) = brief_embedding(&s, Some(fixture.clone()), &mut notes).unwrap();
        assert!(notes.is_empty());
        assert!(description.contains("CLIP"));
        use kol_embed::Embedder;
        let direct = kol_embed::ClipEmbedder::from_dir(&fixture)
            .unwrap()
            .embed_text("ครีมกันแดด for sensitive skin")
            .unwrap();
        assert_eq!(e, direct);
        let missing = brief_embedding(&s, Some(PathBuf::from("/nonexistent/clip")), &mut notes);
        assert!(matches!(missing, Err(CampaignError::Embed(_))));
    }
}
