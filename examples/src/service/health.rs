//! Liveness and readiness: `GET /healthz` answers while the process serves; `GET /readyz` only
//! when the database is reachable and every migration is applied.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ProblemKind};

/// The answer of the probes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: String,
}

/// Liveness: the process serves requests.
#[utoipa::path(
    get,
    path = "/healthz",
    responses((status = 200, description = "Alive", body = Health)),
    tag = "health"
)]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// Readiness: the database answers and its schema is up to date (503 otherwise, with
/// `Retry-After`).
#[utoipa::path(
    get,
    path = "/readyz",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable or migrations pending", body = super::Problem, content_type = "application/problem+json"),
    ),
    tag = "health"
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let pending = state.db.pending_migrations().await.map_err(|e| {
        ApiError::new(ProblemKind::Unavailable, "the database is unreachable").with_source(e)
    })?;
    if !pending.is_empty() {
        return Err(ApiError::new(
            ProblemKind::Unavailable,
            format!("migrations not applied yet: {}", pending.join(", ")),
        ));
    }
    Ok(Json(Health {
        status: "ready".to_owned(),
    }))
}
