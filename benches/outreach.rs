//! Outreach message throughput: 20 concurrent writers append 500 messages each (10,000 in all)
//! to one conversation through a pool of 20 connections, then the thread is read back and checked
//! (every message exactly once, `last_message_at` on the newest).
//!
//! Not a criterion benchmark: the figure is one realistic run, bound by one commit (fsync) per
//! message. Needs a server:
//!
//! ```text
//! eval "$(scripts/provision-postgres.sh --print-env)"
//! cargo bench -p kol-benches --bench outreach [-- MESSAGES_PER_WRITER]
//! ```

use std::collections::HashSet;
use std::time::Instant;

use kol_core::{
    CampaignPeriod, CampaignStatus, Channel, Direction, Handle, MessageBody, NewCampaign, NewKol,
    NewMessage, PlainText, Platform, PriceThb,
};
use kol_db::testing::TestDatabase;
use kol_db::{Database, DbConfig};

const WRITERS: usize = 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(per_writer) = kol_benches::bench_count_arg("outreach", 500)? else {
        return Ok(());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let t = TestDatabase::new().await?;
        let db = Database::connect_with(DbConfig::new(t.url()).max_connections(WRITERS)).await?;
        let kol = db
            .create_kol(&NewKol::new(Handle::new(
                Platform::Tiktok,
                "outreach_bench",
            )?))
            .await?;
        let today = chrono::Utc::now().date_naive();
        let campaign = db
            .create_campaign(&NewCampaign::new(
                PlainText::new("Bench")?,
                PlainText::new("Bench client")?,
                PriceThb::new(1_000)?,
                CampaignPeriod::new(today, today)?,
            ))
            .await?
            .id;
        for status in [CampaignStatus::Planning, CampaignStatus::Running] {
            db.set_campaign_status(campaign, status).await?;
        }
        let id = db
            .open_conversation(campaign, kol.id, Channel::Dm, &MessageBody::new("start")?)
            .await?
            .thread
            .conversation
            .id();
        let started = Instant::now();
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..WRITERS {
            let db = db.clone();
            writers.spawn(async move {
                for i in 0..per_writer {
                    let direction = if i % 2 == 0 {
                        Direction::Out
                    } else {
                        Direction::In
                    };
                    let body = MessageBody::new(format!("writer {w} message {i}"))?;
                    db.add_message(id, &NewMessage { direction, body }).await?;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            });
        }
        while let Some(done) = writers.join_next().await {
            done?.map_err(|e| e.to_string())?;
        }
        let elapsed = started.elapsed();
        let total = WRITERS * per_writer;
        let thread = db.thread(id).await?;
        let distinct: HashSet<&str> = thread.messages.iter().map(|m| m.body.as_str()).collect();
        if thread.messages.len() != total + 1 || distinct.len() != total + 1 {
            return Err(format!(
                "expected {} distinct messages, found {} ({} distinct)",
                total + 1,
                thread.messages.len(),
                distinct.len()
            )
            .into());
        }
        println!(
            "{total} messages from {WRITERS} writers in {:.2} s ({:.0} messages/s)",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64()
        );
        drop(t); // drops the database
        Ok(())
    })
}
