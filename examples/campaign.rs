//! The main example: find the creators that fit a campaign brief.
//!
//! ```text
//! cargo run --release -p kol-examples --example campaign -- [--category beauty] [--creators 5000] [--top 10]
//! ```
//!
//! It generates a realistic, deterministic catalogue (kol_examples::catalogue), makes a brief
//! embedding near the chosen category, and ranks creators by their best picture's cosine
//! distance to the brief. With no `DATABASE_URL` everything runs in memory; with one, it runs
//! the migrations, imports the catalogue (unless already there) and answers through PostgreSQL +
//! pgvector.

use std::collections::HashMap;
use std::process::ExitCode;

use kol_core::{CatalogueEntry, Embedding, KolId};
use kol_db::{Database, DatabaseUrl, ImportOptions};
use kol_examples::catalogue::{CATEGORIES, CatalogueSpec, brief_for_category};

struct Args {
    category: String,
    creators: usize,
    top: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        category: "beauty".into(),
        creators: 5_000,
        top: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--category" => args.category = value("--category")?.to_lowercase(),
            "--creators" => {
                args.creators = value("--creators")?
                    .parse()
                    .map_err(|e| format!("--creators: {e}"))?
            }
            "--top" => args.top = value("--top")?.parse().map_err(|e| format!("--top: {e}"))?,
            "-h" | "--help" => {
                return Err("usage: campaign [--category NAME] [--creators N] [--top K]".into());
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    if !CATEGORIES.contains(&args.category.as_str()) {
        return Err(format!(
            "--category: unknown category {:?} (one of: {})",
            args.category,
            CATEGORIES.join(", ")
        ));
    }
    if args.top == 0 || args.creators == 0 {
        return Err("--top and --creators must be at least 1".into());
    }
    Ok(args)
}

/// KOL-level ranking in memory: each creator's best (smallest) distance over its pictures.
fn rank_in_memory(
    catalogue: &[CatalogueEntry],
    brief: &Embedding,
    top: usize,
) -> Vec<(usize, f64)> {
    let mut scored: Vec<(usize, f64)> = catalogue
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            e.media
                .iter()
                .filter_map(|m| m.embedding.as_ref())
                .map(|m| brief.cosine_distance(m))
                .min_by(f64::total_cmp)
                .map(|d| (i, d))
        })
        .collect();
    scored.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    scored.truncate(top);
    scored
}

async fn rank_in_postgres(
    url: DatabaseUrl,
    spec: &CatalogueSpec,
    brief: &Embedding,
    top: usize,
) -> Result<Vec<(kol_core::Kol, f64)>, kol_db::DbError> {
    let db = Database::connect(url).await?;
    db.run_migrations().await?;
    if db.count_kols().await? == 0 {
        eprintln!("importing {} generated creators...", spec.creators);
        db.import_catalogue(spec.generate(), &ImportOptions::default(), |p| {
            if let Some(total) = p.total {
                eprint!("\r  {:>3}%", p.creators * 100 / total.max(1));
            }
        })
        .await?;
        eprintln!();
    }
    // Enough pictures to cover `top` distinct creators; exact scan so the answer is exact.
    let hits = db
        .nearest_media(brief, top * 8, kol_core::SearchMode::Exact)
        .await?;
    let mut best: Vec<(KolId, f64)> = Vec::new();
    let mut seen = HashMap::new();
    for h in hits {
        if seen.insert(h.kol_id, ()).is_none() {
            best.push((h.kol_id, h.distance));
        }
    }
    best.truncate(top);
    let mut out = Vec::with_capacity(best.len());
    for (id, d) in best {
        out.push((db.kol(id).await?, d));
    }
    Ok(out)
}

fn print_row(rank: usize, kol: &kol_core::NewKol, distance: f64) {
    let name = kol.display_name.as_ref().map_or("-", |n| n.as_str());
    let followers = kol
        .followers
        .map_or("-".to_owned(), |f| f.get().to_string());
    let th = kol
        .audience_th_pct
        .map_or("-".to_owned(), |a| a.to_string());
    let cats: Vec<String> = kol.categories.to_strings();
    println!(
        "{rank:>3}  {:<28} {:<22} {:>10} {:>6}  {:<20} {:.4}",
        kol.handle.to_string(),
        name,
        followers,
        th,
        cats.join(","),
        distance
    );
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("campaign: {e}");
            return ExitCode::from(2);
        }
    };
    let spec = CatalogueSpec::with_creators(args.creators);
    let brief = brief_for_category(&args.category, 1);
    println!(
        "{:>3}  {:<28} {:<22} {:>10} {:>6}  {:<20} distance",
        "#", "creator", "name", "followers", "TH", "categories"
    );
    match DatabaseUrl::from_env() {
        None => {
            eprintln!(
                "no DATABASE_URL: running in memory on {} generated creators",
                args.creators
            );
            let catalogue: Vec<CatalogueEntry> = spec.generate().collect();
            for (rank, (i, d)) in rank_in_memory(&catalogue, &brief, args.top)
                .into_iter()
                .enumerate()
            {
                print_row(rank + 1, &catalogue[i].kol, d);
            }
        }
        Some(url) => {
            eprintln!("using PostgreSQL at {url}");
            match rank_in_postgres(url, &spec, &brief, args.top).await {
                Ok(rows) => {
                    for (rank, (kol, d)) in rows.into_iter().enumerate() {
                        print_row(rank + 1, &kol.profile, d);
                    }
                }
                Err(e) => {
                    eprintln!("campaign: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
