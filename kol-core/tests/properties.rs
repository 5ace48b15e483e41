//! Properties of kol-core that hold for every input: normalization is idempotent, parsing and
//! display round-trip, serde round-trips and validates, no input panics a constructor, and the
//! conversation state machine never leaves `closed` nor confirms without agreed terms; the
//! campaign report's (`report`) and the calibrated reach estimator's (`estimate`) properties are
//! modules of this binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The campaign report's and the calibrated reach estimator's properties: modules of this one
// test binary (files under `tests/properties/`, which Cargo does not build on their own).
#[path = "properties/estimate.rs"]
mod estimate;
#[path = "properties/report.rs"]
mod report;

use chrono::{DateTime, Utc};
use kol_core::*;
use proptest::prelude::*;

/// Cases per property (each property below runs this many generated inputs).
const CASES: u32 = 1_000;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(CASES)
    }
}

fn platform() -> impl Strategy<Value = Platform> {
    proptest::sample::select(Platform::ALL.to_vec())
}

/// Raw usernames that are often valid: optional '@', mixed case, padding.
fn raw_username() -> impl Strategy<Value = String> {
    ("[ ]{0,2}", "@?", "[A-Za-z0-9_.]{1,14}", "[ ]{0,2}")
        .prop_map(|(a, b, c, d)| format!("{a}{b}{c}{d}"))
}

fn handle() -> impl Strategy<Value = Handle> {
    (platform(), "[a-z0-9]{1,15}")
        .prop_filter_map("not a reserved page", |(p, u)| Handle::new(p, &u).ok())
}

fn embedding() -> impl Strategy<Value = Embedding> {
    proptest::collection::vec(-1.0f32..1.0, Embedding::DIM)
        .prop_filter_map("non-zero", |v| Embedding::new(v).ok())
}

fn new_kol() -> impl Strategy<Value = NewKol> {
    (
        handle(),
        proptest::option::of("[A-Za-z ]{1,20}[A-Za-z]"),
        proptest::collection::vec("[a-z]{1,10}", 0..4),
        proptest::option::of(0i64..=i64::from(i32::MAX)),
        proptest::option::of(proptest::sample::select(
            CountryCode::all().collect::<Vec<_>>(),
        )),
        proptest::option::of(0i64..=100),
        proptest::collection::vec("[a-z]{1,8}", 0..3),
    )
        .prop_map(|(handle, name, tags, followers, country, share, links)| {
            let mut k = NewKol::new(handle);
            k.display_name = PlainText::optional("display_name", name.as_deref()).unwrap();
            k.categories = Categories::parse(tags).unwrap();
            k.followers = followers.map(|f| Followers::new(f).unwrap());
            k.country = country;
            k.audience_th_pct = share.map(|s| AudienceShare::new(s).unwrap());
            k.sample_links = links
                .iter()
                .map(|l| Link::new(&format!("https://{l}.example.com/p")).unwrap())
                .collect();
            k.extra.insert("n", serde_json::json!(links.len())).unwrap();
            k
        })
}

fn terms() -> impl Strategy<Value = Terms> {
    ("[a-z ]{0,5}[a-z]", "[a-z ]{0,5}[a-z]", 0i64..1_000_000)
        .prop_map(|(d, t, p)| Terms::new(&d, &t, PriceThb::new(p).unwrap()).unwrap())
}

fn transition() -> impl Strategy<Value = Transition> {
    prop_oneof![
        terms().prop_map(Transition::Propose),
        terms().prop_map(Transition::Agree),
        Just(Transition::Close),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn username_normalization_is_idempotent(raw in raw_username()) {
        if let Ok(u) = Username::new(&raw) {
            prop_assert_eq!(Username::new(u.as_str()).unwrap(), u.clone());
            prop_assert_eq!(u.as_str(), u.as_str().trim().to_lowercase());
            prop_assert!(!u.as_str().starts_with('@'));
        }
    }

    #[test]
    fn category_and_item_normalization_is_idempotent(raw in "\\PC{0,20}") {
        if let Ok(c) = Category::new(&raw) {
            prop_assert_eq!(Category::new(c.as_str()).unwrap(), c);
        }
        if let Ok(i) = DeliverableItem::new(&raw) {
            prop_assert_eq!(DeliverableItem::new(i.as_str()).unwrap(), i);
        }
    }

    #[test]
    fn handles_round_trip_through_display_url_and_serde(h in handle()) {
        prop_assert_eq!(Handle::from_profile_url(&h.profile_url()).unwrap(), h.clone());
        let json = serde_json::to_string(&h).unwrap();
        prop_assert_eq!(serde_json::from_str::<Handle>(&json).unwrap(), h.clone());
        prop_assert_eq!(h.platform().as_str().parse::<Platform>().unwrap(), h.platform());
    }

    #[test]
    fn new_kols_round_trip_through_serde(k in new_kol()) {
        let json = serde_json::to_string(&k).unwrap();
        prop_assert_eq!(serde_json::from_str::<NewKol>(&json).unwrap(), k);
    }

    #[test]
    fn embeddings_round_trip_through_serde(e in embedding()) {
        let json = serde_json::to_string(&e).unwrap();
        prop_assert_eq!(serde_json::from_str::<Embedding>(&json).unwrap(), e.clone());
        let d = e.cosine_distance(&e.normalized());
        prop_assert!(d.abs() < 1e-6);
    }

    #[test]
    fn no_string_panics_a_constructor(s in "\\PC{0,40}|.{0,40}") {
        // Each call returns Ok or a typed error; none may panic.
        let _ = Username::new(&s);
        let _ = Handle::from_profile_url(&s);
        for p in Platform::ALL { let _ = Handle::new(p, &s); }
        let _ = s.parse::<Platform>();
        let _ = CountryCode::new(&s);
        let _ = Category::new(&s);
        let _ = DeliverableItem::new(&s);
        let _ = Link::new(&s);
        let _ = PlainText::new(&s);
        let _ = MessageBody::new(s.clone());
        let _ = s.parse::<Channel>();
        let _ = s.parse::<ConversationStatus>();
        let _ = s.parse::<Direction>();
        let _ = s.parse::<MediaKind>();
        let _ = s.parse::<FollowerTier>();
        let _ = s.parse::<Followers>();
        let _ = s.parse::<PriceThb>();
        let _ = Terms::new(&s, &s, PriceThb::ZERO);
        let _ = serde_json::from_str::<NewKol>(&s);
        let _ = serde_json::from_str::<Conversation>(&s);
        let _ = serde_json::from_str::<NewKolMedia>(&s);
    }

    #[test]
    fn no_number_panics_a_constructor(n in any::<i64>(), v in proptest::collection::vec(any::<f32>(), 0..600)) {
        let in_range = (0..=i64::from(i32::MAX)).contains(&n);
        prop_assert_eq!(Followers::new(n).is_ok(), in_range);
        prop_assert_eq!(PriceThb::new(n).is_ok(), in_range);
        prop_assert_eq!(Reach::new(n).is_ok(), in_range);
        prop_assert_eq!(AudienceShare::new(n).is_ok(), (0..=100).contains(&n));
        match Embedding::new(v.clone()) {
            Ok(e) => {
                prop_assert_eq!(e.as_slice().len(), Embedding::DIM);
                prop_assert!(e.as_slice().iter().all(|x| x.is_finite()));
                prop_assert!(e.norm() > 0.0);
            }
            Err(CoreError::EmbeddingDimension { actual, .. }) => prop_assert_eq!(actual, v.len()),
            Err(CoreError::EmbeddingNotFinite { index, .. }) => prop_assert!(!v[index].is_finite()),
            Err(CoreError::EmbeddingZeroNorm | CoreError::EmbeddingNormOverflow { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn conversations_never_leave_closed_and_confirm_only_with_terms(
        steps in proptest::collection::vec(transition(), 0..12)
    ) {
        let mut c = Conversation::from_parts(ConversationParts {
            id: ConversationId(1),
            campaign_id: CampaignId(1),
            kol_id: KolId(1),
            channel: Channel::Line,
            status: ConversationStatus::Contacted,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            last_message_at: None,
            proposed: None,
            agreed: None,
        }).unwrap();
        let mut was_closed = false;
        for step in steps {
            let before = c.clone();
            let allowed = before.status().can_transition_to(step.target());
            match c.apply(step) {
                Ok(status) => prop_assert!(allowed && status == c.status()),
                Err(e) => {
                    let invalid = matches!(e, CoreError::InvalidTransition { .. });
                    prop_assert!(!allowed && invalid);
                    prop_assert_eq!(&c, &before, "a refused transition changes nothing");
                }
            }
            if was_closed {
                prop_assert_eq!(c.status(), ConversationStatus::Closed);
            }
            // Every state the transitions reach is one the stored-row checks accept.
            prop_assert!(Conversation::from_parts(c.parts().clone()).is_ok());
            was_closed |= c.status() == ConversationStatus::Closed;
            if c.status() == ConversationStatus::Confirmed {
                prop_assert!(c.agreed().is_some());
            }
            // What serde writes, serde reads back, and it still satisfies the rules.
            let json = serde_json::to_string(&c).unwrap();
            prop_assert_eq!(serde_json::from_str::<Conversation>(&json).unwrap(), c.clone());
        }
    }

    #[test]
    fn enum_names_round_trip(i in 0usize..8) {
        let p = Platform::ALL[i];
        prop_assert_eq!(p.to_string().to_uppercase().parse::<Platform>().unwrap(), p);
        let ch = Channel::ALL[i % Channel::ALL.len()];
        prop_assert_eq!(ch.to_string().parse::<Channel>().unwrap(), ch);
        let st = ConversationStatus::ALL[i % 4];
        prop_assert_eq!(serde_json::from_str::<ConversationStatus>(&serde_json::to_string(&st).unwrap()).unwrap(), st);
        let t = FollowerTier::ALL[i % 5];
        prop_assert_eq!(t.to_string().parse::<FollowerTier>().unwrap(), t);
    }
}

#[test]
fn a_confirmed_conversation_without_terms_does_not_deserialize() {
    let json = r#"{"id":1,"kol_id":1,"channel":"dm","status":"confirmed","created_at":"2026-01-01T00:00:00Z",
                   "last_message_at":null,"proposed":null,"agreed":null}"#;
    assert!(serde_json::from_str::<Conversation>(json).is_err());
}
