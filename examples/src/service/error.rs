//! Errors of the reference service as `application/problem+json` documents (RFC 9457).
//!
//! Every failure a handler can meet becomes one [`ApiError`]: a status, a problem type, a
//! human-readable detail, and for invalid input the request field at fault. kol-db's and
//! kol-core's errors are mapped by variant (never by message): unknown ids are 404, conflicts
//! with the stored state 409, invalid input 422, retryable database failures 503 with
//! `Retry-After`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kol_core::CoreError;
use kol_db::DbError;
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying after a retryable database failure.
pub const RETRY_AFTER_SECS: u32 = 1;

/// A problem document (RFC 9457), as the service sends it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`tag:kol-platform,2026:problem/<kind>`, or `about:blank`
    /// for plain HTTP failures).
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// The request field at fault (a JSON path such as `brief.vector`, a query parameter, or a
    /// path segment), for invalid input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Whether the same request may succeed later (then `Retry-After` says when to try).
    #[serde(default)]
    pub retryable: bool,
}

/// What kind of failure an [`ApiError`] is; decides its status and problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The body is not readable at all (malformed JSON, wrong content type): 400.
    BadRequest,
    /// An unknown id: 404.
    NotFound,
    /// The request conflicts with the stored state: 409.
    Conflict,
    /// The body is larger than the endpoint accepts: 413.
    TooLarge,
    /// The content type is not one the endpoint reads: 415.
    UnsupportedMediaType,
    /// Invalid input, naming the field: 422.
    InvalidInput,
    /// The database is unavailable for now: 503 with `Retry-After`.
    Unavailable,
    /// The request took longer than the service allows: 503.
    Timeout,
    /// A failure of the service or its database that the client cannot fix: 500.
    Internal,
}

impl ProblemKind {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable | Self::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug_and_title(self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest => ("bad-request", "The request cannot be read"),
            Self::NotFound => ("not-found", "No such resource"),
            Self::Conflict => ("conflict", "The request conflicts with the current state"),
            Self::TooLarge => ("too-large", "The request body is too large"),
            Self::UnsupportedMediaType => ("unsupported-media-type", "Unsupported content type"),
            Self::InvalidInput => ("invalid-input", "Invalid input"),
            Self::Unavailable => ("unavailable", "The database is unavailable, retry later"),
            Self::Timeout => ("timeout", "The request took too long"),
            Self::Internal => ("internal", "Internal error"),
        }
    }
}

/// The problem type URI of a kind of failure.
pub fn problem_type(kind: ProblemKind) -> String {
    format!("tag:kol-platform,2026:problem/{}", kind.slug_and_title().0)
}

/// A failed request: what the client is told (as a problem document), and the cause (logged,
/// never sent when it is internal).
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct ApiError {
    /// What kind of failure.
    pub kind: ProblemKind,
    /// The detail sent to the client.
    pub detail: String,
    /// The request field at fault.
    pub field: Option<String>,
    /// The underlying error.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    /// A failure of `kind` with a detail.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            field: None,
            source: None,
        }
    }

    /// Invalid input in `field`.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::InvalidInput, detail).with_field(field)
    }

    /// Names the request field at fault.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Names the request field at fault when the error is invalid input (a kol-core error about
    /// a value the handler took from `field`: the request's name replaces kol-core's).
    #[must_use]
    pub fn in_field(mut self, field: &str) -> Self {
        if self.kind == ProblemKind::InvalidInput {
            self.field = Some(field.to_owned());
        }
        self
    }

    /// Keeps the cause.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let (_, title) = self.kind.slug_and_title();
        Problem {
            problem_type: problem_type(self.kind),
            title: title.to_owned(),
            status: self.kind.status().as_u16(),
            detail: self.detail.clone(),
            field: self.field.clone(),
            retryable: self.kind == ProblemKind::Unavailable,
        }
    }
}

/// The value a kol-core error is about, as a request field name (the handler or the JSON path
/// usually knows better, see [`ApiError::in_field`]).
pub fn core_error_field(error: &CoreError) -> Option<&'static str> {
    Some(match error {
        CoreError::UnknownPlatform { .. } => "platform",
        CoreError::InvalidUsername { .. } => "username",
        CoreError::InvalidProfileUrl { .. } => "url",
        CoreError::InvalidLink { .. } => "link",
        CoreError::UnknownCountry { .. } => "country",
        CoreError::InvalidCategory { .. } => "category",
        CoreError::OutOfRange { field, .. }
        | CoreError::InvalidText { field, .. }
        | CoreError::InvalidTimestamp { field, .. } => field,
        CoreError::UnknownVariant { kind, .. } => kind,
        CoreError::InvalidDeliverableItem { .. } => "item",
        CoreError::EmbeddingDimension { .. }
        | CoreError::EmbeddingNotFinite { .. }
        | CoreError::EmbeddingZeroNorm
        | CoreError::EmbeddingNormOverflow { .. } => "embedding",
        CoreError::InvalidPeriod { .. } => "period",
        CoreError::InvalidTerms { .. } | CoreError::MissingAgreedTerms => "terms",
        CoreError::InvalidPostUrl { .. } => "url",
        CoreError::InvalidPlan { .. } => "plan",
        _ => return None,
    })
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        match error {
            // A move the state machine does not allow: the request is well-formed, the stored
            // state refuses it.
            CoreError::InvalidTransition { .. } | CoreError::InvalidStatusChange { .. } => {
                Self::new(ProblemKind::Conflict, error.to_string()).with_source(error)
            }
            _ => {
                let field = core_error_field(&error);
                let mut e = Self::new(ProblemKind::InvalidInput, error.to_string());
                e.field = field.map(str::to_owned);
                e.with_source(error)
            }
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        if error.is_retryable() {
            return Self::new(
                ProblemKind::Unavailable,
                "the database is unavailable or the request lost a race with another; nothing \
                 was changed, retry",
            )
            .with_source(error);
        }
        let (kind, field) = match &error {
            DbError::NotFound { .. } => (ProblemKind::NotFound, None),
            DbError::OpenConversationExists { .. }
            | DbError::CampaignNotOpen { .. }
            | DbError::KolNotAvailable { .. }
            | DbError::OverBudget { .. }
            | DbError::ExclusivityConflict { .. }
            | DbError::SnapshotRefused { .. }
            | DbError::StaleConversation { .. }
            | DbError::UniqueViolation { .. }
            | DbError::RuleViolation { .. } => (ProblemKind::Conflict, None),
            DbError::NotPlanned { .. } => (ProblemKind::InvalidInput, Some("item".to_owned())),
            DbError::InvalidInput(core) => {
                let mut e = Self::from(core.clone());
                e.source = Some(Box::new(error));
                return e;
            }
            DbError::InvalidArgument { name, .. } => {
                (ProblemKind::InvalidInput, Some((*name).to_owned()))
            }
            DbError::Csv(_) => (ProblemKind::InvalidInput, Some("body".to_owned())),
            DbError::CsvRead(io) => {
                if io
                    .get_ref()
                    .is_some_and(|inner| inner.is::<super::extract::BodyTooLarge>())
                {
                    (ProblemKind::TooLarge, None)
                } else {
                    (ProblemKind::BadRequest, Some("body".to_owned()))
                }
            }
            DbError::StatementTimeout(_) => (ProblemKind::Timeout, None),
            _ => (ProblemKind::Internal, None),
        };
        let detail = match kind {
            // Internal failures are logged with their cause, not sent.
            ProblemKind::Internal => "internal error; see the service's log".to_owned(),
            ProblemKind::Timeout => "a database statement ran past its timeout".to_owned(),
            _ => error.to_string(),
        };
        let mut e = Self::new(kind, detail).with_source(error);
        e.field = field;
        e
    }
}

impl From<kol_optimizer::OptimizerError> for ApiError {
    fn from(error: kol_optimizer::OptimizerError) -> Self {
        Self::new(ProblemKind::InvalidInput, error.to_string()).with_source(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.kind.status();
        if status.is_server_error() {
            tracing::error!(error = %self, cause = ?self.source, status = status.as_u16(), "request failed");
        } else {
            tracing::debug!(error = %self, status = status.as_u16(), "request refused");
        }
        problem_response(&self.problem())
    }
}

/// A problem document as a response: its status, `application/problem+json`, and `Retry-After`
/// when it is retryable.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if problem.retryable {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    response
}

/// Turns the plain error responses that axum and tower-http produce themselves (an unknown
/// route, a method not allowed, a body over the limit, a request timeout) into problem
/// documents, so that every error the service sends is `application/problem+json`.
pub async fn problem_for_plain_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return response;
    }
    let (kind, detail) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (ProblemKind::TooLarge, "the request body is too large"),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => (
            ProblemKind::Timeout,
            "the request took longer than the service allows",
        ),
        StatusCode::NOT_FOUND => (ProblemKind::NotFound, "no such route"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ProblemKind::UnsupportedMediaType,
            "unsupported content type",
        ),
        s if s.is_client_error() => (ProblemKind::BadRequest, "the request cannot be served"),
        _ => (ProblemKind::Internal, "internal error"),
    };
    let mut problem = ApiError::new(kind, detail).problem();
    if kind == ProblemKind::BadRequest || kind == ProblemKind::Internal {
        // Keep the original status (405, 414...): the kind only picks the wording.
        problem.status = status.as_u16();
        problem.problem_type = "about:blank".to_owned();
        problem.title = status.canonical_reason().unwrap_or("Error").to_owned();
    }
    let mut out = problem_response(&problem);
    // Headers such as `Allow` on a 405 stay.
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
