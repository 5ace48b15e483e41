//! The reference HTTP service: creators, plans from briefs, campaigns and outreach over
//! PostgreSQL, on axum.
//!
//! ```text
//! DATABASE_URL=postgres://kol@127.0.0.1/kol cargo run -p kol-examples --example service
//! ```
//!
//! Environment: `DATABASE_URL` (required), `KOL_BIND` (default `127.0.0.1:8080`),
//! `KOL_CLIP_MODEL` (a CLIP model folder, for text briefs), `RUST_LOG` (default `info`).
//! Migrations are applied at start. Ctrl-C or SIGTERM stops accepting, lets the requests in
//! flight finish, and closes the pool.

use std::process::ExitCode;
use std::sync::Arc;

use kol_db::{Database, DbConfig};
use kol_examples::service::{AppState, ServiceConfig, SharedEmbedder, serve, shutdown_signal};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("service: {error}");
            let mut source = std::error::Error::source(error.as_ref());
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = ServiceConfig::from_env()?;
    let db = Database::connect_with(DbConfig::new(config.database_url.clone())).await?;
    let applied = db.run_migrations().await?;
    tracing::info!(applied = applied.len(), "migrations up to date");
    let embedder: Option<SharedEmbedder> = match &config.clip_model {
        Some(dir) => {
            let clip = kol_embed::ClipEmbedder::from_dir(dir)?;
            tracing::info!(model = %dir.display(), "text briefs enabled");
            Some(Arc::new(clip))
        }
        None => None,
    };
    let state = AppState {
        db,
        embedder,
        limits: config.limits,
    };
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    serve(listener, state, shutdown_signal()).await?;
    Ok(())
}
