//! Walks one negotiation with a creator, from the first message to confirmed terms, against
//! PostgreSQL, and prints the thread.
//!
//! ```text
//! DATABASE_URL=postgres://user:password@localhost/kol cargo run -p kol-examples --example outreach
//! ```
//!
//! It runs the migrations, upserts a demo creator (`tiktok:@porji`), creates a campaign for a
//! client and starts it (each run makes its own: one open conversation per creator per campaign),
//! and then: opens a conversation on LINE with a first message, records the creator's reply,
//! proposes terms, receives a counter-offer, agrees (the creator is then confirmed in the
//! campaign at that price), and prints the whole thread.

use std::process::ExitCode;

use clap::Parser;
use kol_core::{
    AudienceShare, CampaignPeriod, CampaignStatus, Categories, Channel, CountryCode, Followers,
    Handle, MessageBody, NewCampaign, NewKol, NewMessage, PlainText, PriceThb, Terms,
};
use kol_db::{Database, DatabaseUrl, DbError};

fn body(text: &str) -> Result<MessageBody, DbError> {
    Ok(MessageBody::new(text)?)
}

async fn run(url: DatabaseUrl) -> Result<(), DbError> {
    let db = Database::connect(url).await?;
    db.run_migrations().await?;

    let mut creator = NewKol::new(Handle::from_profile_url(
        "https://www.tiktok.com/@Porji?lang=th",
    )?);
    creator.display_name = Some(PlainText::new("Porji")?);
    creator.categories = Categories::parse(["beauty", "skincare"])?;
    creator.followers = Some(Followers::new(120_000)?);
    creator.country = Some(CountryCode::TH);
    creator.audience_th_pct = Some(AudienceShare::new(85)?);
    let kol_id = db.upsert_kol(&creator).await?.id;

    let today = chrono::Utc::now().date_naive();
    let period = CampaignPeriod::new(today, today + chrono::Days::new(30))?;
    let campaign = db
        .create_campaign(&NewCampaign::new(
            PlainText::new("Serum launch")?,
            PlainText::new("Glow Lab")?,
            PriceThb::new(100_000)?,
            period,
        ))
        .await?;
    db.set_campaign_status(campaign.id, CampaignStatus::Planning)
        .await?;
    db.set_campaign_status(campaign.id, CampaignStatus::Running)
        .await?;

    let opened = db
        .open_conversation(
            campaign.id,
            kol_id,
            Channel::Line,
            &body("สวัสดีค่ะ! We are launching a serum for sensitive skin in Bangkok. Interested?")?,
        )
        .await?;
    let id = opened.thread.conversation.id();
    if !opened.other_campaigns.is_empty() {
        println!(
            "note: {} is also in {} other open campaign(s)",
            creator.handle,
            opened.other_campaigns.len()
        );
    }
    db.add_message(
        id,
        &NewMessage::inbound(body("Hi! Yes, happy to hear more. My rates are attached.")?),
    )
    .await?;
    let offer = Terms::new(
        "2 TikTok videos + 1 IG story",
        "1-15 December 2026",
        PriceThb::new(40_000)?,
    )?;
    db.propose_terms(id, offer).await?;
    db.add_message(
        id,
        &NewMessage::inbound(body(
            "Could we do 45,000 THB with usage rights for 3 months?",
        )?),
    )
    .await?;
    let counter = Terms::new(
        "2 TikTok videos + 1 IG story, 3-month usage rights",
        "1-15 December 2026",
        PriceThb::new(45_000)?,
    )?;
    db.propose_terms(id, counter.clone()).await?;
    let confirmed = db.agree_terms(id, counter).await?;

    let thread = db.thread(id).await?;
    println!(
        "campaign {} ({}), conversation {} with {} on {}: {}; the creator is {} at {} THB",
        campaign.id,
        campaign.details.client,
        id,
        creator.handle,
        thread.conversation.channel(),
        confirmed.conversation.status(),
        confirmed.campaign_kol.status,
        counter_price(&confirmed)
    );
    for m in &thread.messages {
        let who = match m.direction {
            kol_core::Direction::Out => "us     ",
            kol_core::Direction::In => "creator",
        };
        println!(
            "  {}  {who}  {}",
            m.created_at.format("%Y-%m-%d %H:%M:%S"),
            m.body
        );
    }
    if let Some(agreed) = thread.conversation.agreed() {
        println!("agreed: {agreed}");
    }
    Ok(())
}

fn counter_price(agreed: &kol_db::Agreed) -> String {
    agreed
        .campaign_kol
        .agreed_price
        .map_or_else(|| "no".to_owned(), |p| p.to_string())
}

/// Walks one negotiation with a creator, from the first message to confirmed terms, against
/// PostgreSQL, and prints the thread.
#[derive(Debug, Parser)]
#[command(about)]
struct OutreachArgs {
    /// The PostgreSQL database (its password is never printed).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = OutreachArgs::parse();
    let Some(url) = args.database_url.map(DatabaseUrl::new) else {
        eprintln!(
            "outreach: this example needs PostgreSQL: set DATABASE_URL (for the local test server: \
             eval \"$(scripts/provision-postgres.sh --print-env)\" and use $KOL_TEST_DATABASE_URL)"
        );
        return ExitCode::from(2);
    };
    match run(url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("outreach: {e}");
            ExitCode::FAILURE
        }
    }
}
