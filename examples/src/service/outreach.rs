//! Outreach endpoints: open a conversation with a creator for a campaign (one open conversation
//! per creator and campaign: a second is 409), add messages, propose terms, agree (the creator
//! is confirmed with its deliverables), close, and the pipeline.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kol_core::{
    CampaignId, CampaignKol, Channel, Conversation, ConversationId, ConversationStatus,
    Deliverable, Direction, KolId, Message, MessageBody, NewDeliverable, NewMessage, Terms,
};
use kol_db::{Agreement, Membership, PipelineQuery, TransitionOptions};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::extract::{Id, StrictJson, StrictQuery};

/// Body of `POST /campaigns/{id}/conversations`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    /// The creator.
    #[schema(value_type = i64)]
    pub kol_id: KolId,
    /// Where (`dm`, `email`, `line`, `whatsapp`, `phone`, `agency`).
    #[schema(value_type = String)]
    pub channel: Channel,
    /// The first (outbound) message.
    #[schema(value_type = String)]
    pub message: MessageBody,
}

/// A conversation with its messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreadDoc {
    /// The conversation.
    #[schema(value_type = Object)]
    pub conversation: Conversation,
    /// Its messages, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<Message>,
}

/// A conversation just opened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenedDoc {
    /// The conversation with its first message.
    pub thread: ThreadDoc,
    /// The creator in this campaign (now `contacted`).
    #[schema(value_type = Object)]
    pub campaign_kol: CampaignKol,
    /// The creator's other open campaigns.
    #[schema(value_type = Vec<Object>)]
    pub other_campaigns: Vec<Membership>,
}

/// Opens a conversation with a creator for the campaign, with its first message. A second open
/// conversation for the same creator in the campaign is 409 (naming the open one).
#[utoipa::path(
    post,
    path = "/campaigns/{id}/conversations",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body = OpenBody,
    responses(
        (status = 201, description = "Opened", body = OpenedDoc),
        (status = 404, description = "Unknown campaign or creator", body = super::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already an open conversation, or the creator or campaign does not allow it", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "outreach"
)]
pub async fn open(
    State(state): State<AppState>,
    Id(id): Id,
    StrictJson(body): StrictJson<OpenBody>,
) -> Result<(StatusCode, Json<OpenedDoc>), ApiError> {
    let opened = state
        .db
        .open_conversation(CampaignId(id), body.kol_id, body.channel, &body.message)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(OpenedDoc {
            thread: ThreadDoc {
                conversation: opened.thread.conversation,
                messages: opened.thread.messages,
            },
            campaign_kol: opened.campaign_kol,
            other_campaigns: opened.other_campaigns,
        }),
    ))
}

/// A conversation with its messages.
#[utoipa::path(
    get,
    path = "/conversations/{id}",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses(
        (status = 200, description = "The thread", body = ThreadDoc),
        (status = 404, description = "Unknown id", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "outreach"
)]
pub async fn thread(
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<ThreadDoc>, ApiError> {
    let t = state.db.thread(ConversationId(id)).await?;
    Ok(Json(ThreadDoc {
        conversation: t.conversation,
        messages: t.messages,
    }))
}

/// Body of `POST /conversations/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBodyInput {
    /// `out` (ours) or `in` (the creator's).
    #[schema(value_type = String)]
    pub direction: Direction,
    /// The text.
    #[schema(value_type = String)]
    pub body: MessageBody,
}

/// A stored message and the conversation's latest activity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordedDoc {
    /// The message.
    #[schema(value_type = Object)]
    pub message: Message,
    /// The conversation's `last_message_at` after it.
    pub last_message_at: chrono::DateTime<chrono::Utc>,
}

/// Records a message, ours or the creator's.
#[utoipa::path(
    post,
    path = "/conversations/{id}/messages",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = MessageBodyInput,
    responses((status = 201, description = "Stored", body = RecordedDoc)),
    tag = "outreach"
)]
pub async fn add_message(
    State(state): State<AppState>,
    Id(id): Id,
    StrictJson(body): StrictJson<MessageBodyInput>,
) -> Result<(StatusCode, Json<RecordedDoc>), ApiError> {
    let message = NewMessage {
        direction: body.direction,
        body: body.body,
    };
    let recorded = state.db.add_message(ConversationId(id), &message).await?;
    Ok((
        StatusCode::CREATED,
        Json(RecordedDoc {
            message: recorded.message,
            last_message_at: recorded.last_message_at,
        }),
    ))
}

/// Terms as a request gives them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsInput {
    /// What the creator delivers.
    pub deliverables: String,
    /// When.
    pub timeline: String,
    /// For how much, THB.
    pub price: i64,
}

impl TermsInput {
    fn terms(&self) -> Result<Terms, ApiError> {
        let price = kol_core::PriceThb::new(self.price)
            .map_err(|e| ApiError::from(e).in_field("terms.price"))?;
        Terms::new(&self.deliverables, &self.timeline, price)
            .map_err(|e| ApiError::from(e).in_field("terms"))
    }
}

/// Body of `POST /conversations/{id}/propose`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeBody {
    /// The proposed terms.
    pub terms: TermsInput,
    /// The status the caller saw: 409 when another change got there first.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub expected_status: Option<ConversationStatus>,
}

/// What a transition did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransitionDoc {
    /// The conversation after it.
    #[schema(value_type = Object)]
    pub conversation: Conversation,
    /// The outbound message stating the terms, if any.
    #[schema(value_type = Option<Object>)]
    pub message: Option<Message>,
}

/// Proposes terms (the conversation moves to `negotiating`).
#[utoipa::path(
    post,
    path = "/conversations/{id}/propose",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = ProposeBody,
    responses(
        (status = 200, description = "Proposed", body = TransitionDoc),
        (status = 409, description = "Not allowed from its status, or changed meanwhile", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "outreach"
)]
pub async fn propose(
    State(state): State<AppState>,
    Id(id): Id,
    StrictJson(body): StrictJson<ProposeBody>,
) -> Result<Json<TransitionDoc>, ApiError> {
    let terms = body.terms.terms()?;
    let outcome = state
        .db
        .transition(
            ConversationId(id),
            kol_core::Transition::Propose(terms),
            TransitionOptions {
                expected_status: body.expected_status,
            },
        )
        .await?;
    Ok(Json(TransitionDoc {
        conversation: outcome.conversation,
        message: outcome.message,
    }))
}

/// Body of `POST /conversations/{id}/agree`.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreeBody {
    /// The agreed terms (their price is what the campaign spends on the creator).
    pub terms: TermsInput,
    /// The deliverables (`[{"item": "tiktok_video", "due_on": "2026-10-10"}]`); default: one
    /// of the planned item, due on the campaign's last day.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub deliverables: Option<Vec<NewDeliverable>>,
    /// Whether the agreement may take the campaign over its budget.
    #[serde(default)]
    pub allow_over_budget: bool,
    /// The status the caller saw.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub expected_status: Option<ConversationStatus>,
}

/// What an agreement did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgreedDoc {
    /// The conversation, confirmed.
    #[schema(value_type = Object)]
    pub conversation: Conversation,
    /// The message stating the terms.
    #[schema(value_type = Object)]
    pub message: Message,
    /// The creator, confirmed in the campaign.
    #[schema(value_type = Object)]
    pub campaign_kol: CampaignKol,
    /// The deliverables created.
    #[schema(value_type = Vec<Object>)]
    pub deliverables: Vec<Deliverable>,
}

/// Agrees terms: the conversation is confirmed, the creator confirmed in the campaign at the
/// agreed price, and its deliverables created, in one transaction (409 over budget, on an
/// exclusivity conflict, or from a status that does not allow it).
#[utoipa::path(
    post,
    path = "/conversations/{id}/agree",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = AgreeBody,
    responses(
        (status = 200, description = "Agreed", body = AgreedDoc),
        (status = 409, description = "Over budget, exclusivity, status", body = super::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A deliverable of an item not planned", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "outreach"
)]
pub async fn agree(
    State(state): State<AppState>,
    Id(id): Id,
    StrictJson(body): StrictJson<AgreeBody>,
) -> Result<Json<AgreedDoc>, ApiError> {
    let agreement = Agreement {
        deliverables: body.deliverables,
        allow_over_budget: body.allow_over_budget,
        ..Agreement::new(body.terms.terms()?)
    };
    let agreed = state
        .db
        .agree(
            ConversationId(id),
            &agreement,
            TransitionOptions {
                expected_status: body.expected_status,
            },
        )
        .await
        .map_err(|e| ApiError::from(e).in_field("deliverables"))?;
    Ok(Json(AgreedDoc {
        conversation: agreed.conversation,
        message: agreed.message,
        campaign_kol: agreed.campaign_kol,
        deliverables: agreed.deliverables,
    }))
}

/// Closes a conversation.
#[utoipa::path(
    post,
    path = "/conversations/{id}/close",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses(
        (status = 200, description = "Closed", body = TransitionDoc),
        (status = 409, description = "Already closed", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "outreach"
)]
pub async fn close(
    State(state): State<AppState>,
    Id(id): Id,
) -> Result<Json<TransitionDoc>, ApiError> {
    let outcome = state.db.close_conversation(ConversationId(id)).await?;
    Ok(Json(TransitionDoc {
        conversation: outcome.conversation,
        message: outcome.message,
    }))
}

/// Query of `GET /pipeline`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PipelineParams {
    /// Only this campaign.
    pub campaign: Option<i64>,
    /// Only this status (`contacted`, `negotiating`, `confirmed`, `closed`).
    #[param(value_type = Option<String>)]
    pub status: Option<ConversationStatus>,
    /// At most this many (1 to 1000, default 50).
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
}

/// Conversations by latest activity.
#[utoipa::path(
    get,
    path = "/pipeline",
    params(PipelineParams),
    responses((status = 200, description = "Conversations", body = Vec<Object>)),
    tag = "outreach"
)]
pub async fn pipeline(
    State(state): State<AppState>,
    StrictQuery(p): StrictQuery<PipelineParams>,
) -> Result<Json<Vec<Conversation>>, ApiError> {
    let query = PipelineQuery {
        campaign: p.campaign.map(CampaignId),
        statuses: p.status.into_iter().collect(),
        limit: p.limit.unwrap_or(50),
        offset: p.offset.unwrap_or(0),
    };
    Ok(Json(state.db.pipeline(&query).await?))
}
