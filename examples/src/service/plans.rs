//! `POST /plans`: a brief (a category of the generated catalogue, a 512-value vector, or text
//! when a CLIP model is configured), a budget, filters and a method, to a plan with the reason
//! for every choice: kol-db's `search_candidates`, then kol-optimizer's `plan_candidates`, as
//! the lifecycle example does.

use axum::Json;
use axum::extract::State;
use kol_core::{
    AudienceShare, Categories, CountryCode, Embedding, FollowerTier, Followers, KolFilter,
    Platform, PriceThb, SearchMode, SearchRequest, TieredReach,
};
use kol_optimizer::{Budget, CampaignOptions, CampaignPlan, ExactOptions, Method, plan_candidates};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ProblemKind};
use super::extract::StrictJson;
use crate::catalogue::{CATEGORIES, brief_for_category};

/// What the campaign should look like.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BriefInput {
    /// A content category of the generated catalogue (`beauty`, `food`...): its centre.
    Category(String),
    /// A CLIP embedding: 512 finite values, not all zero.
    Vector(Vec<f32>),
    /// Words, embedded with the configured CLIP model (`KOL_CLIP_MODEL`).
    Text(String),
}

/// Filters on creators (every field optional; lists accept any of their values).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FilterInput {
    /// Platforms (`tiktok`, `instagram`...).
    #[schema(value_type = Vec<String>)]
    pub platforms: Vec<Platform>,
    /// Countries, ISO 3166-1 alpha-2.
    #[schema(value_type = Vec<String>)]
    pub countries: Vec<CountryCode>,
    /// At least one of these categories.
    #[schema(value_type = Vec<String>)]
    pub categories: Categories,
    /// At least this many followers.
    #[schema(value_type = Option<i64>)]
    pub min_followers: Option<Followers>,
    /// At most this many followers.
    #[schema(value_type = Option<i64>)]
    pub max_followers: Option<Followers>,
    /// In one of these follower tiers (`nano`, `micro`, `mid`, `macro`, `mega`).
    #[schema(value_type = Vec<String>)]
    pub tiers: Vec<FollowerTier>,
    /// At least this share (0-100) of the audience in Thailand.
    #[schema(value_type = Option<i64>)]
    pub min_audience_th_pct: Option<AudienceShare>,
    /// Has a rate-card item priced at most this (THB).
    #[schema(value_type = Option<i64>)]
    pub max_item_price: Option<PriceThb>,
}

impl From<FilterInput> for KolFilter {
    fn from(f: FilterInput) -> Self {
        Self {
            platforms: f.platforms,
            countries: f.countries,
            categories_any: f.categories,
            min_followers: f.min_followers,
            max_followers: f.max_followers,
            tiers: f.tiers,
            min_audience_th_pct: f.min_audience_th_pct,
            max_item_price: f.max_item_price,
            ..Self::default()
        }
    }
}

/// How the optimizer chooses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MethodInput {
    /// Fast, at least half the optimum.
    #[default]
    Greedy,
    /// Proven optimal within a work limit of [`EXACT_WORK_LIMIT`] states (else the best found,
    /// with its bound).
    Exact,
}

/// The work limit of exact plans in the service (about half a second of one core).
pub const EXACT_WORK_LIMIT: u64 = 10_000_000;

/// The default number of candidates searched for a plan.
pub const DEFAULT_CANDIDATES: usize = 100;

/// The largest number of candidates a plan may search.
pub const MAX_CANDIDATES: usize = 1_000;

fn default_candidates() -> usize {
    DEFAULT_CANDIDATES
}

/// Body of `POST /plans` (and of `POST /campaigns/{id}/plan`, where the brief defaults to the
/// campaign's).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    /// The brief.
    pub brief: Option<BriefInput>,
    /// The budget, in THB.
    pub budget: u64,
    /// Which creators may be chosen.
    #[serde(default)]
    pub filter: FilterInput,
    /// Greedy (default) or exact.
    #[serde(default)]
    pub method: MethodInput,
    /// `"exact"` (default) or `{"approximate": {"probes": 10, "ef_search": 40}}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub search: SearchMode,
    /// Creators searched before planning (1 to 1000, default 100).
    #[serde(default = "default_candidates")]
    pub candidates: usize,
}

/// A plan and why each creator is in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanResponse {
    /// Creators the search returned.
    pub candidates: usize,
    /// The method used.
    pub method: MethodInput,
    /// The plan: selections, spend, effective reach, its proven upper bound, and one
    /// explanation per selection.
    #[schema(value_type = Object)]
    pub plan: CampaignPlan,
    /// The reason for every choice, in words, in the order of `plan.explanations`.
    pub reasons: Vec<String>,
}

/// The embedding of a brief.
///
/// # Errors
/// 422 naming `brief.category` or `brief.text` when the brief cannot be embedded.
pub async fn embed_brief(state: &AppState, brief: BriefInput) -> Result<Embedding, ApiError> {
    match brief {
        BriefInput::Vector(v) => {
            Embedding::new(v).map_err(|e| ApiError::from(e).with_field("brief.vector"))
        }
        BriefInput::Category(c) => {
            let c = c.trim().to_lowercase();
            if CATEGORIES.contains(&c.as_str()) {
                Ok(brief_for_category(&c, 0))
            } else {
                Err(ApiError::invalid(
                    "brief.category",
                    format!(
                        "unknown category {c:?} (expected one of: {})",
                        CATEGORIES.join(", ")
                    ),
                ))
            }
        }
        BriefInput::Text(text) => {
            let Some(embedder) = state.embedder.clone() else {
                return Err(ApiError::invalid(
                    "brief.text",
                    "text briefs need a CLIP model (set KOL_CLIP_MODEL); send a category or a \
                     vector",
                ));
            };
            if text.trim().is_empty() {
                return Err(ApiError::invalid("brief.text", "the brief is empty"));
            }
            tokio::task::spawn_blocking(move || embedder.embed_text(&text))
                .await
                .map_err(|e| {
                    ApiError::new(ProblemKind::Internal, "the text encoder failed").with_source(e)
                })?
                .map_err(|e| {
                    ApiError::new(ProblemKind::Internal, "the text encoder failed").with_source(e)
                })
        }
    }
}

/// Searches and plans: the shared core of `POST /plans` and `POST /campaigns/{id}/plan`.
///
/// # Errors
/// 422 for a bad budget, count or brief; database errors as problems.
pub async fn search_and_plan(
    state: &AppState,
    brief: Embedding,
    body: &PlanBody,
) -> Result<PlanResponse, ApiError> {
    if !(1..=MAX_CANDIDATES).contains(&body.candidates) {
        return Err(ApiError::invalid(
            "candidates",
            format!(
                "candidates must be 1 to {MAX_CANDIDATES}, got {}",
                body.candidates
            ),
        ));
    }
    if body.budget == 0 {
        return Err(ApiError::invalid("budget", "the budget must be positive"));
    }
    let request = SearchRequest {
        query: brief,
        k: body.candidates,
        filter: body.filter.clone().into(),
        mode: body.search,
    };
    let candidates = state
        .db
        .search_candidates(&request)
        .await
        .map_err(|e| ApiError::from(e).in_field("search"))?;
    let (budget, method) = (body.budget, body.method);
    let count = candidates.len();
    // Planning is CPU work (an exact plan up to half a second): off the async workers.
    let plan = tokio::task::spawn_blocking(move || {
        let estimator = TieredReach::default();
        let options = CampaignOptions {
            method: match method {
                MethodInput::Greedy => Method::Greedy,
                MethodInput::Exact => Method::Exact(ExactOptions {
                    work_limit: EXACT_WORK_LIMIT,
                    ..ExactOptions::default()
                }),
            },
            ..CampaignOptions::new(Budget::new(budget), &estimator)
        };
        plan_candidates(&candidates, &options)
    })
    .await
    .map_err(|e| ApiError::new(ProblemKind::Internal, "planning failed").with_source(e))??;
    let reasons = plan.explanations.iter().map(reason).collect();
    Ok(PlanResponse {
        candidates: count,
        method,
        plan,
        reasons,
    })
}

/// Why a creator is in the plan, in words.
pub fn reason(e: &kol_optimizer::Explanation) -> String {
    let audience = e.audience_th_pct.map_or_else(
        || "unknown Thai audience".to_owned(),
        |a| format!("{a} Thai audience"),
    );
    format!(
        "KOL {}: {} for {} THB; relevance {:.3} to the brief (distance {:.3}), reach {} ({}), {}: \
         {:.0} effective people{}{}",
        e.kol_id,
        e.item,
        e.price.get(),
        e.relevance,
        e.distance,
        e.est_reach.get(),
        if e.reach_estimated {
            "estimated"
        } else {
            "rate card"
        },
        audience,
        e.effective_reach,
        e.reach_per_thb
            .map(|r| format!(", {r:.2} per THB"))
            .unwrap_or_default(),
        if e.pinned { ", pinned" } else { "" },
    )
}

/// Plans a campaign from a brief: the nearest creators (filtered), then the plan that reaches
/// the most people within the budget, with the reason for every choice.
#[utoipa::path(
    post,
    path = "/plans",
    request_body = PlanBody,
    responses(
        (status = 200, description = "The plan", body = PlanResponse),
        (status = 400, description = "Malformed JSON", body = super::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, naming the field", body = super::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "plans"
)]
pub async fn plan(
    State(state): State<AppState>,
    StrictJson(body): StrictJson<PlanBody>,
) -> Result<Json<PlanResponse>, ApiError> {
    let Some(brief) = body.brief.clone() else {
        return Err(ApiError::invalid("brief", "a brief is required"));
    };
    let embedding = embed_brief(&state, brief).await?;
    Ok(Json(search_and_plan(&state, embedding, &body).await?))
}
