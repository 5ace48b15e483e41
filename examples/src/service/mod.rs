//! The reference HTTP service: the platform's endpoints on axum, built only on the public API
//! of kol-core, kol-db, kol-optimizer and kol-embed.
//!
//! - [`router`] builds the routes with their body limits, timeouts and tracing;
//! - [`serve`] runs them on a listener until a shutdown signal, lets in-flight requests finish,
//!   then closes the database pool;
//! - [`config`] reads the environment, [`error`] turns every failure into an
//!   `application/problem+json` document, [`extract`] refuses bad input, [`openapi`] describes
//!   it all as an OpenAPI 3.1 document generated from the handler types.
//!
//! Handlers by area: [`kols`] (CSV import, listing, one creator), [`plans`] (a plan from a
//! brief), [`campaigns`] (campaigns, their plans, deliverables, snapshots and report),
//! [`outreach`] (conversations, messages, negotiation, pipeline), [`health`] (liveness and
//! readiness).

pub mod campaigns;
pub mod config;
pub mod error;
pub mod extract;
pub mod health;
pub mod kols;
pub mod openapi;
pub mod outreach;
pub mod plans;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use kol_db::Database;
use kol_embed::Embedder;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use config::{ConfigError, Limits, ServiceConfig};
pub use error::{ApiError, Problem};

/// A text encoder for briefs, shared by every request (`ClipEmbedder` in the binary).
pub type SharedEmbedder = Arc<dyn Embedder + Send + Sync>;

/// What every handler shares: the database pool, the optional text encoder, the limits.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Database,
    /// The text encoder for text briefs, when a CLIP model is configured.
    pub embedder: Option<SharedEmbedder>,
    /// Request limits.
    pub limits: Limits,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .field("embedder", &self.embedder.is_some())
            .field("limits", &self.limits)
            .finish()
    }
}

impl AppState {
    /// State over `db`, without a text encoder, with default limits.
    pub fn new(db: Database) -> Self {
        Self {
            db,
            embedder: None,
            limits: Limits::default(),
        }
    }
}

/// The service's routes, with their layers: JSON bodies up to [`Limits::json_body`] and
/// requests up to [`Limits::request_timeout`]; `POST /kols/import` streams up to
/// [`Limits::csv_body`] within [`Limits::import_timeout`]. Every error is a problem document.
pub fn router(state: AppState) -> Router {
    let limits = state.limits;
    let import = Router::new()
        .route("/kols/import", post(kols::import))
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.import_timeout,
        ));
    let api = Router::new()
        .route("/kols", get(kols::list))
        .route("/kols/{id}", get(kols::get_one))
        .route("/plans", post(plans::plan))
        .route(
            "/campaigns",
            post(campaigns::create).get(campaigns::list_campaigns),
        )
        .route("/campaigns/{id}", get(campaigns::get_one))
        .route("/campaigns/{id}/status", post(campaigns::set_status))
        .route(
            "/campaigns/{id}/plan",
            post(campaigns::plan).get(campaigns::get_plan),
        )
        .route("/campaigns/{id}/kols", get(campaigns::kols))
        .route("/campaigns/{id}/conversations", post(outreach::open))
        .route("/campaigns/{id}/deliverables", get(campaigns::deliverables))
        .route("/campaigns/{id}/report", get(campaigns::report))
        .route("/conversations/{id}", get(outreach::thread))
        .route("/conversations/{id}/messages", post(outreach::add_message))
        .route("/conversations/{id}/propose", post(outreach::propose))
        .route("/conversations/{id}/agree", post(outreach::agree))
        .route("/conversations/{id}/close", post(outreach::close))
        .route("/pipeline", get(outreach::pipeline))
        .route("/deliverables/{id}/post", post(campaigns::post_deliverable))
        .route(
            "/deliverables/{id}/status",
            post(campaigns::deliverable_status),
        )
        .route("/deliverables/{id}/snapshots", post(campaigns::snapshot))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(openapi::document))
        .layer(DefaultBodyLimit::max(limits.json_body))
        .layer(RequestBodyLimitLayer::new(limits.json_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ));
    Router::new()
        .merge(import)
        .merge(api)
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::map_response(
            error::problem_for_plain_errors,
        ))
        .layer(TraceLayer::new_for_http())
}

async fn not_found() -> ApiError {
    ApiError::new(error::ProblemKind::NotFound, "no such route")
}

/// Serves `state` on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish, and closes the database pool.
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let db = state.db.clone();
    let app = router(state);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    db.close();
    tracing::info!("service stopped; database pool closed");
    result
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}
