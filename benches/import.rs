//! Bulk import into a fresh PostgreSQL database: 100,000 creators, 100,000 512-d embeddings
//! and 200,000 rate-card items (kol-db's `import_catalogue`), reporting rows per second and the
//! peak memory of the process.
//!
//! Not a criterion benchmark: one import takes tens of seconds, and what matters is the figure of
//! one realistic run, printed at the end. Needs a server:
//!
//! ```text
//! eval "$(scripts/provision-postgres.sh --print-env)"
//! cargo bench -p kol-benches --bench import [-- CREATORS]
//! ```

use std::time::Instant;

use kol_db::ImportOptions;
use kol_db::testing::TestDatabase;
use kol_examples::catalogue::CatalogueSpec;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(creators) = kol_benches::bench_count_arg("import", 100_000)? else {
        return Ok(());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let t = TestDatabase::new().await?;
        let spec = CatalogueSpec {
            creators,
            seed: 2026,
            thumbs_per_creator: 0..=0, // one picture (the profile) per creator
            bundle_share: 1.0,         // main item + bundle: two rate-card items per creator
            extra_items: false,
        };
        println!("importing {creators} creators into {}", t.name());
        let started = Instant::now();
        let mut last_decile = 0;
        let report = t
            .db()
            .import_catalogue(spec.generate(), &ImportOptions::default(), |p| {
                let decile = p.creators * 10 / p.total.unwrap_or(1).max(1);
                if decile > last_decile {
                    last_decile = decile;
                    println!(
                        "  {:>3}%  {:>7} creators  {:>6.1} s",
                        decile * 10,
                        p.creators,
                        started.elapsed().as_secs_f64()
                    );
                }
            })
            .await?;
        let total = started.elapsed().as_secs_f64();
        let rows = report.inserted + report.media + report.rate_cards;
        println!(
            "creators {}  media {}  rate cards {}  ({rows} rows)",
            report.inserted, report.media, report.rate_cards
        );
        println!(
            "load {:.1} s ({:.0} rows/s), ivfflat rebuild {:.1} s, total {:.1} s, peak RSS {:.0} MiB",
            report.load_time.as_secs_f64(),
            rows as f64 / report.load_time.as_secs_f64(),
            report.index_time.as_secs_f64(),
            total,
            peak_rss_mib().unwrap_or(f64::NAN),
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
