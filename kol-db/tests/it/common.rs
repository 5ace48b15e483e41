//! Sample data shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use kol_core::{
    AudienceShare, Categories, CountryCode, DeliverableItem, Embedding, Followers, Handle, Link,
    MediaKind, MediaLocation, MessageBody, NewKol, NewKolMedia, NewRateCard, PlainText, Platform,
    PriceThb, Reach, Terms,
};
use kol_db::CatalogueEntry;
use kol_db::testing::TestDatabase;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) async fn test_db() -> TestDatabase {
    TestDatabase::new()
        .await
        .expect("test database (run scripts/test.sh)")
}

pub(crate) fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub(crate) fn random_embedding(rng: &mut impl Rng) -> Embedding {
    let v: Vec<f32> = (0..Embedding::DIM)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    Embedding::new(v).unwrap()
}

pub(crate) fn kol(i: usize) -> NewKol {
    let mut k = NewKol::new(Handle::new(Platform::Tiktok, &format!("creator_{i}")).unwrap());
    k.display_name = Some(PlainText::new(&format!("Creator {i}")).unwrap());
    k.followers = Some(Followers::new(1_000 * i as i64).unwrap());
    k.country = Some(CountryCode::TH);
    k.audience_th_pct = Some(AudienceShare::new((i % 101) as i64).unwrap());
    k.categories = Categories::parse([["beauty", "food", "travel"][i % 3]]).unwrap();
    k
}

pub(crate) fn full_entry(i: usize, rng: &mut impl Rng) -> CatalogueEntry {
    let mut kol = kol(i);
    let platforms = [Platform::Tiktok, Platform::Instagram, Platform::Youtube];
    kol.handle = Handle::new(platforms[i % 3], &format!("user.{i}")).unwrap();
    kol.contact = Some(PlainText::new(&format!("line:user{i}")).unwrap());
    kol.sample_links = vec![Link::new(&format!("https://example.com/p/{i}")).unwrap()];
    kol.extra
        .insert("seed", serde_json::json!({ "i": i, "tags": ["a", "b"] }))
        .unwrap();
    let media = vec![
        NewKolMedia {
            kind: MediaKind::Profile,
            location: MediaLocation::new(
                Some(PlainText::new(&format!("/data/split_images/{i}/profile.jpg")).unwrap()),
                Some(Link::new(&format!("https://cdn.example.com/{i}/p.jpg")).unwrap()),
            )
            .unwrap(),
            embedding: Some(random_embedding(rng)),
        },
        NewKolMedia {
            kind: MediaKind::Thumb,
            location: MediaLocation::url(
                Link::new(&format!("https://cdn.example.com/{i}/t.jpg")).unwrap(),
            ),
            embedding: if i % 7 == 0 {
                None
            } else {
                Some(random_embedding(rng))
            },
        },
    ];
    let rate_cards = vec![
        NewRateCard::new(
            DeliverableItem::TIKTOK_VIDEO,
            PriceThb::new(rng.random_range(500..50_000)).unwrap(),
            Some(Reach::new(rng.random_range(0..1_000_000)).unwrap()),
        ),
        NewRateCard::new(
            DeliverableItem::BUNDLE,
            PriceThb::new(rng.random_range(1_000..90_000)).unwrap(),
            None,
        ),
    ];
    CatalogueEntry {
        kol,
        media,
        rate_cards,
    }
}

/// A running campaign with a budget no test reaches, for outreach tests.
pub(crate) async fn running_campaign(db: &kol_db::Database) -> kol_core::CampaignId {
    campaign_for(db, "Brand A", i64::from(i32::MAX)).await
}

/// A running campaign of `client` with `budget` THB, in December 2026.
pub(crate) async fn campaign_for(
    db: &kol_db::Database,
    client: &str,
    budget: i64,
) -> kol_core::CampaignId {
    use kol_core::{CampaignPeriod, CampaignStatus, NewCampaign};
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let campaign = NewCampaign::new(
        PlainText::new(&format!("{client} launch")).unwrap(),
        PlainText::new(client).unwrap(),
        PriceThb::new(budget).unwrap(),
        CampaignPeriod::new(day(1), day(31)).unwrap(),
    );
    let id = db.create_campaign(&campaign).await.unwrap().id;
    db.set_campaign_status(id, CampaignStatus::Planning)
        .await
        .unwrap();
    db.set_campaign_status(id, CampaignStatus::Running)
        .await
        .unwrap();
    id
}

/// A message body (test text is always valid).
pub(crate) fn body(s: &str) -> MessageBody {
    MessageBody::new(s).unwrap()
}

/// The terms the outreach tests negotiate, at `price` THB.
pub(crate) fn terms(price: i64) -> Terms {
    Terms::new(
        "2 TikTok videos + 1 IG story",
        "1-15 December 2026",
        PriceThb::new(price).unwrap(),
    )
    .unwrap()
}
