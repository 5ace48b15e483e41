//! Two campaigns for two brands, sharing creators, from brief to plan versus actual, against
//! PostgreSQL; then how much closer an estimator calibrated on the posts predicts held-out posts
//! than the rate cards did.
//!
//! ```text
//! DATABASE_URL=postgres://user:password@localhost/kol cargo run --release -p kol-examples --example lifecycle [-- --json]
//! ```
//!
//! It runs the migrations, imports a generated catalogue (the `campaign` example's, smaller),
//! and adds two new campaigns on every run (see `kol_examples::lifecycle` for each step).

use std::process::ExitCode;

use clap::Parser;
use kol_db::{Database, DatabaseUrl};
use kol_examples::lifecycle::{LifecycleSettings, render, run};

/// Two campaigns, from brief to plan versus actual, against PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "lifecycle", version, about)]
struct Args {
    /// Creators in the generated catalogue.
    #[arg(long, default_value_t = LifecycleSettings::default().creators)]
    creators: usize,
    /// Seed of the catalogue and the simulation.
    #[arg(long, default_value_t = LifecycleSettings::default().seed)]
    seed: u64,
    /// Budget of each campaign, in THB.
    #[arg(long, default_value_t = LifecycleSettings::default().budget)]
    budget: i64,
    /// Print the reports and the backtest as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let Some(url) = DatabaseUrl::from_env() else {
        eprintln!(
            "lifecycle: this example needs PostgreSQL 15 with pgvector: set DATABASE_URL \
             (postgres://user:password@host/db). On this repository's machines, \
             `eval \"$(scripts/provision-postgres.sh --print-env)\"` provisions one and sets \
             KOL_TEST_DATABASE_URL, which you can use as DATABASE_URL."
        );
        return ExitCode::from(2);
    };
    let settings = LifecycleSettings {
        creators: args.creators,
        seed: args.seed,
        budget: args.budget,
        ..LifecycleSettings::default()
    };
    let result: Result<_, Box<dyn std::error::Error>> = async {
        let db = Database::connect(url).await?;
        db.run_migrations().await?;
        Ok(run(&db, &settings).await?)
    }
    .await;
    match result {
        Ok(outcome) if args.json => match serde_json::to_string_pretty(&outcome) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("lifecycle: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(outcome) => {
            print!("{}", render(&outcome));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lifecycle: {e}");
            ExitCode::FAILURE
        }
    }
}
