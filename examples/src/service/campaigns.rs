//! Campaign endpoints: create, list, read, move through statuses, plan from the brief (the plan
//! is saved and frozen), the creators taking part, deliverables (post, status), metric snapshots
//! and the plan-versus-actual report.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use kol_core::{
    BriefText, Campaign, CampaignId, CampaignKol, CampaignPeriod, CampaignReport, CampaignStatus,
    Deliverable, DeliverableId, DeliverableStatus, NewCampaign, NewSnapshot, PlainText, PlanRecord,
    PriceThb, Snapshot,
};
use kol_db::CampaignQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::extract::{Id, StrictJson, StrictQuery};
use super::plans::{BriefInput, PlanBody, PlanResponse, embed_brief, search_and_plan};

/// Body of `POST /campaigns`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    /// The campaign's name.
    #[schema(value_type = String)]
    pub name: PlainText,
    /// The client (brand); exclusivity compares clients by this name.
    #[schema(value_type = String)]
    pub client: PlainText,
    /// The brief in words.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub brief: Option<BriefText>,
    /// The brief as an embedding (a category, a vector, or text with a CLIP model): plans of
    /// the campaign use it when they name no brief.
    #[serde(default)]
    pub brief_embedding: Option<BriefInput>,
    /// The budget, in THB.
    #[schema(value_type = i64)]
    pub budget: PriceThb,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: NaiveDate,
    /// Whether the client has its creators exclusively in the period.
    #[serde(default)]
    pub exclusive: bool,
}

/// Creates a campaign (status `draft`).
#[utoipa::path(
    post,
    path = "/campaigns",
    request_body = CampaignBody,
    responses(
        (status = 201, description = "The campaign", body = Object),
        (status = 422, description = "Invalid input, naming the field", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "campaigns"
)]
pub async fn create(
    State(state): State<AppState>,
    StrictJson(body): StrictJson<CampaignBody>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let period = CampaignPeriod::new(body.starts_on, body.ends_on)
        .map_err(|e| ApiError::from(e).in_field("ends_on"))?;
    let mut new = NewCampaign::new(body.name, body.client, body.budget, period);
    new.brief = body.brief;
    new.exclusive = body.exclusive;
    if let Some(brief) = body.brief_embedding {
        new.brief_embedding = Some(
            embed_brief(&state, brief)
                .await
                .map_err(|e| e.in_field("brief_embedding"))?,
        );
    }
    let campaign = state.db.create_campaign(&new).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

/// Query of `GET /campaigns`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CampaignListParams {
    /// Only this status (`draft`, `planning`, `running`, `done`, `cancelled`).
    #[param(value_type = Option<String>)]
    pub status: Option<CampaignStatus>,
    /// Only this client (exact name).
    pub client: Option<String>,
    /// Campaigns with an id above this one.
    pub after: Option<i64>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

/// Lists campaigns in id order.
#[utoipa::path(
    get,
    path = "/campaigns",
    params(CampaignListParams),
    responses((status = 200, description = "Campaigns", body = Vec<Object>)),
    tag = "campaigns"
)]
pub async fn list_campaigns(
    State(state): State<AppState>,
    StrictQuery(p): StrictQuery<CampaignListParams>,
) -> Result<Json<Vec<Campaign>>, ApiError> {
    let query = CampaignQuery {
        statuses: p.status.into_iter().collect(),
        client: p.client,
        after: p.after.map(CampaignId),
        limit: p.limit.unwrap_or(100),
    };
    Ok(Json(state.db.campaigns(&query).await?))
}

/// One campaign.
#[utoipa::path(
    get,
    path = "/campaigns/{id}",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, description = "The campaign", body = Object),
        (status = 404, description = "Unknown id", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "campaigns"
)]
pub async fn get_one(
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(state.db.campaign(CampaignId(id)).await?))
}

/// Body of `POST /campaigns/{id}/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// The new status (`planning`, `running`, `done`, `cancelled`).
    #[schema(value_type = String)]
    pub status: CampaignStatus,
}

/// Moves a campaign to another status (409 for a move its state machine refuses).
#[utoipa::path(
    post,
    path = "/campaigns/{id}/status",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The campaign", body = Object),
        (status = 404, description = "Unknown id", body = super::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A move the campaign's status does not allow", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "campaigns"
)]
pub async fn set_status(
    State(state): State<AppState>,
    Id(id): Id,
    StrictJson(body): StrictJson<StatusBody>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(
        state
            .db
            .set_campaign_status(CampaignId(id), body.status)
            .await?,
    ))
}

/// A saved plan and the creators it put in the campaign.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavedPlan {
    /// The plan with its reasons.
    pub planned: PlanResponse,
    /// The creators of the campaign after saving (`planned`).
    #[schema(value_type = Vec<Object>)]
    pub kols: Vec<CampaignKol>,
}

/// Plans the campaign (from the body's brief, else the campaign's) and saves the plan.
#[utoipa::path(
    post,
    path = "/campaigns/{id}/plan",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body = PlanBody,
    responses(
        (status = 200, description = "The saved plan", body = SavedPlan),
        (status = 404, description = "Unknown id", body = super::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The campaign no longer takes a plan", body = super::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, naming the field", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "campaigns"
)]
pub async fn plan(
    State(state): State<AppState>,
    Id(id): Id,
    StrictJson(body): StrictJson<PlanBody>,
) -> Result<Json<SavedPlan>, ApiError> {
    let id = CampaignId(id);
    let campaign = state.db.campaign(id).await?;
    let brief = match body.brief.clone() {
        Some(brief) => embed_brief(&state, brief).await?,
        None => campaign.details.brief_embedding.clone().ok_or_else(|| {
            ApiError::invalid("brief", "the campaign has no brief embedding: send a brief")
        })?,
    };
    let planned = search_and_plan(&state, brief, &body).await?;
    let record = planned.plan.record()?;
    let kols = state.db.save_plan(id, &record).await?;
    Ok(Json(SavedPlan { planned, kols }))
}

/// The campaign's saved plan (`null` when it has none).
#[utoipa::path(
    get,
    path = "/campaigns/{id}/plan",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 200, description = "The plan record", body = Object)),
    tag = "campaigns"
)]
pub async fn get_plan(
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<Option<PlanRecord>>, ApiError> {
    let id = CampaignId(id);
    // An unknown campaign is a 404, not an absent plan.
    state.db.campaign(id).await?;
    Ok(Json(state.db.campaign_plan(id).await?))
}

/// The creators taking part in the campaign, with their status.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/kols",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 200, description = "Creators of the campaign", body = Vec<Object>)),
    tag = "campaigns"
)]
pub async fn kols(
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<Vec<CampaignKol>>, ApiError> {
    Ok(Json(state.db.campaign_kols(CampaignId(id)).await?))
}

/// The campaign's deliverables.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/deliverables",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 200, description = "Deliverables", body = Vec<Object>)),
    tag = "campaigns"
)]
pub async fn deliverables(
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<Vec<Deliverable>>, ApiError> {
    let id = CampaignId(id);
    state.db.campaign(id).await?;
    Ok(Json(state.db.deliverables(id).await?))
}

/// Query of `GET /campaigns/{id}/report`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The report's time (RFC 3339; default now): what is late is judged at this time.
    pub as_of: Option<DateTime<Utc>>,
}

/// Plan versus actual.
#[utoipa::path(
    get,
    path = "/campaigns/{id}/report",
    params(("id" = i64, Path, description = "The campaign's id"), ReportParams),
    responses((status = 200, description = "The report", body = Object)),
    tag = "campaigns"
)]
pub async fn report(
    State(state): State<AppState>,
    Id(id): Id,
    StrictQuery(p): StrictQuery<ReportParams>,
) -> Result<Json<CampaignReport>, ApiError> {
    let as_of = p.as_of.unwrap_or_else(Utc::now);
    Ok(Json(state.db.campaign_report(CampaignId(id), as_of).await?))
}

/// Body of `POST /deliverables/{id}/post`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostBody {
    /// The post's link on the creator's platform.
    pub url: String,
    /// When it went up.
    pub posted_at: DateTime<Utc>,
}

/// Records that a deliverable went up.
#[utoipa::path(
    post,
    path = "/deliverables/{id}/post",
    params(("id" = i64, Path, description = "The deliverable's id")),
    request_body = PostBody,
    responses(
        (status = 200, description = "The deliverable", body = Object),
        (status = 409, description = "Not postable in its status", body = super::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a post link on the creator's platform", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "deliverables"
)]
pub async fn post_deliverable(
    State(state): State<AppState>,
    Id(id): Id,
    StrictJson(body): StrictJson<PostBody>,
) -> Result<Json<Deliverable>, ApiError> {
    Ok(Json(
        state
            .db
            .post_deliverable(DeliverableId(id), &body.url, body.posted_at)
            .await?,
    ))
}

/// Body of `POST /deliverables/{id}/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverableStatusBody {
    /// The new status (`verified`, `missed`, `cancelled`...).
    #[schema(value_type = String)]
    pub status: DeliverableStatus,
}

/// Moves a deliverable to another status.
#[utoipa::path(
    post,
    path = "/deliverables/{id}/status",
    params(("id" = i64, Path, description = "The deliverable's id")),
    request_body = DeliverableStatusBody,
    responses((status = 200, description = "The deliverable", body = Object)),
    tag = "deliverables"
)]
pub async fn deliverable_status(
    State(state): State<AppState>,
    Id(id): Id,
    StrictJson(body): StrictJson<DeliverableStatusBody>,
) -> Result<Json<Deliverable>, ApiError> {
    Ok(Json(
        state
            .db
            .set_deliverable_status(DeliverableId(id), body.status)
            .await?,
    ))
}

/// A recorded snapshot.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnapshotDoc {
    /// The stored snapshot.
    #[schema(value_type = Object)]
    pub snapshot: Snapshot,
    /// `false` when the same capture was already stored.
    pub new: bool,
}

/// Records a metric snapshot of a posted deliverable (append-only; the same capture twice is
/// stored once).
#[utoipa::path(
    post,
    path = "/deliverables/{id}/snapshots",
    params(("id" = i64, Path, description = "The deliverable's id")),
    request_body(content = Object, description = "{\"captured_at\": RFC 3339, \"metrics\": {\"views\", \"likes\", \"comments\", \"shares\", \"saves\", \"reach\"}}"),
    responses(
        (status = 201, description = "Stored", body = SnapshotDoc),
        (status = 200, description = "Already stored", body = SnapshotDoc),
        (status = 409, description = "Refused (not posted, before the post, other counts at the same time)", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "deliverables"
)]
pub async fn snapshot(
    State(state): State<AppState>,
    Id(id): Id,
    StrictJson(body): StrictJson<NewSnapshot>,
) -> Result<(StatusCode, Json<SnapshotDoc>), ApiError> {
    let recorded = state.db.record_snapshot(DeliverableId(id), &body).await?;
    let status = if recorded.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(SnapshotDoc {
            snapshot: recorded.snapshot,
            new: recorded.new,
        }),
    ))
}
