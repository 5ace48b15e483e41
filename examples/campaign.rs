//! The main example: plan a creator campaign for a brief, a budget and filters.
//!
//! ```text
//! cargo run --release -p kol-examples --example campaign -- --category beauty --budget 300000
//! cargo run --release -p kol-examples --example campaign -- --help
//! cargo run --release -p kol-examples --example campaign -- --budget 300000 --frontier --chart frontier.svg
//! ```
//!
//! It generates a realistic, deterministic catalogue (`kol_examples::catalogue`), finds the
//! creators nearest to the brief that pass the filters, and spends the budget on their rate cards
//! for the most effective reach, printing the plan, its upper bound and gap. With no
//! `DATABASE_URL` it runs in memory; with one, it runs the migrations, imports the catalogue
//! (unless already there) and answers through PostgreSQL + pgvector. Both give the same plan.

use std::process::ExitCode;

use kol_db::DatabaseUrl;
use kol_examples::campaign::{
    CampaignError, CampaignReport, CampaignSettings, brief_embedding, parse_args, render_table,
    run_in_memory, run_in_postgres,
};
use kol_examples::chart::{frontier_svg, frontier_table};

/// Writes the chart (`--chart`); false after printing why it failed.
fn write_chart(settings: &CampaignSettings, report: &CampaignReport) -> bool {
    let (Some(path), Some(frontier)) = (&settings.chart, &report.frontier) else {
        return true;
    };
    let title = format!(
        "Effective reach by budget: {} ({} creators matched)",
        report.brief, report.matched
    );
    match std::fs::write(path, frontier_svg(frontier, Some(report.budget), &title)) {
        Ok(()) => {
            eprintln!("campaign: chart written to {}", path.display());
            true
        }
        Err(e) => {
            eprintln!("campaign: cannot write {}: {e}", path.display());
            false
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let (settings, json) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(CampaignError::Help(usage)) => {
            println!("{usage}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("campaign: {e}");
            return ExitCode::from(2);
        }
    };
    let mut notes = Vec::new();
    let clip_model = kol_embed::model_dir_from_env_or_arg(settings.clip_model.clone());
    let result = match brief_embedding(&settings, clip_model, &mut notes) {
        Err(e) => Err(e),
        Ok((brief, description)) => {
            for note in &notes {
                eprintln!("campaign: {note}");
            }
            match DatabaseUrl::from_env() {
                None => {
                    eprintln!(
                        "campaign: no DATABASE_URL, running in memory on {} generated creators",
                        settings.catalogue.creators
                    );
                    run_in_memory(&settings, brief, description)
                }
                Some(url) => {
                    eprintln!("campaign: using PostgreSQL at {url}");
                    run_in_postgres(&settings, url, brief, description).await
                }
            }
        }
    };
    if let Ok(report) = &result
        && !write_chart(&settings, report)
    {
        return ExitCode::FAILURE;
    }
    match result {
        Ok(report) if json => match serde_json::to_string_pretty(&report) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("campaign: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(report) => {
            print!("{}", render_table(&report));
            if let (true, Some(frontier)) = (settings.frontier, &report.frontier) {
                println!();
                print!("{}", frontier_table(frontier));
            }
            ExitCode::SUCCESS
        }
        Err(e @ CampaignError::Usage(_)) => {
            eprintln!("campaign: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("campaign: {e}");
            ExitCode::FAILURE
        }
    }
}
