//! Domain types and rules of the KOL (creator / influencer) marketing platform.
//!
//! `kol-core` models every table of the platform's schema as Rust types that cannot hold an
//! invalid value: a [`Username`] is always normalized, an [`Embedding`] always has 512 finite
//! values, a [`Conversation`] only moves forward through its statuses. Constructors validate and
//! return a [`CoreError`] that names what is wrong; deserializing (serde) validates the same way,
//! so an invalid JSON document is an error, never an invalid value.
//!
//! This crate does no I/O, knows nothing of databases or async runtimes (the [`KolSearch`] trait
//! returns a plain `Future`), and has few dependencies, so
//! every other crate of the workspace (and any service) can share its types.
//!
//! | table | types |
//! | --- | --- |
//! | `kols` | [`Kol`], [`NewKol`], [`Handle`], [`Platform`], [`Username`], [`Categories`], [`Followers`], [`CountryCode`], [`AudienceShare`], [`Link`] |
//! | `kol_media` | [`KolMedia`], [`NewKolMedia`], [`MediaKind`], [`MediaLocation`], [`Embedding`] |
//! | `conversations` | [`Conversation`], [`ConversationStatus`], [`Channel`], [`Terms`], [`Transition`] |
//! | `messages` | [`Message`], [`NewMessage`], [`Direction`], [`MessageBody`] |
//! | `rate_cards` | [`RateCard`], [`NewRateCard`], [`DeliverableItem`], [`PriceThb`], [`Reach`], [`ReachEstimator`] |
//! | `campaigns`, `campaign_plan_items`, `campaign_kols` | [`Campaign`], [`NewCampaign`], [`CampaignStatus`], [`CampaignPeriod`], [`PlanRecord`], [`PlannedItem`], [`CampaignKol`], [`CampaignKolStatus`] |
//! | `deliverables` | [`Deliverable`], [`NewDeliverable`], [`DeliverableStatus`], [`PostUrl`], [`Post`] |
//! | `post_snapshots` | [`Snapshot`], [`NewSnapshot`], [`PostMetrics`], [`Count`] |
//! | computed: plan versus actual ([`report`]) | [`CampaignReport`] from a [`ReportInput`]: per creator and campaign spend, budget and overrun, views, reach, CPM, CPE, engagement rate, late and missed deliverables, count drops, creators short of their rate card's reach; JSON and a table |
//! | computed: reach that learns ([`estimate`]) | [`CalibratedReach`] (a [`ReachEstimator`] adjusted by each creator's own past posts, [`PastPost`], [`ReachCalibration`]) and [`backtest`] (held-out error against the plain figures) |

#![warn(missing_docs)]

pub mod campaign;
pub mod catalogue;
pub mod category;
pub mod conversation;
pub mod country;
pub mod deliverable;
pub mod embedding;
pub mod error;
pub mod estimate;
pub mod filter;
pub mod handle;
pub mod ids;
pub mod kol;
pub mod media;
pub mod message;
pub mod metrics;
pub mod platform;
pub mod rate_card;
pub mod report;
pub mod results;
pub mod search;
pub mod text;
pub mod time;

pub use campaign::{
    BriefText, Campaign, CampaignKol, CampaignKolStatus, CampaignPeriod, CampaignStatus,
    NewCampaign, People, PlanMode, PlanRecord, PlannedItem,
};
pub use catalogue::CatalogueEntry;
pub use category::{Categories, Category};
pub use conversation::{
    Channel, Conversation, ConversationParts, ConversationStatus, Terms, Transition,
};
pub use country::CountryCode;
pub use deliverable::{
    Deliverable, DeliverableParts, DeliverableStatus, NewDeliverable, Post, PostUrl,
};
pub use embedding::Embedding;
pub use error::{CoreError, Result};
pub use estimate::{
    Backtest, CalibratedReach, CalibrationConfig, HeldOutPost, LearnedFactor, PastPost,
    PredictionError, ReachCalibration, backtest,
};
pub use filter::{KolFacts, KolFilter, OutreachFilter};
pub use handle::{Handle, Username};
pub use ids::{
    CampaignId, ConversationId, DeliverableId, KolId, MediaId, MessageId, RateCardId, SnapshotId,
};
pub use kol::{Extra, Kol, Link, NewKol};
pub use media::{KolMedia, MediaKind, MediaLocation, NewKolMedia};
pub use message::{Direction, Message, MessageBody, NewMessage};
pub use metrics::{AudienceShare, FollowerTier, Followers, PG_INTEGER_MAX, PriceThb, Reach};
pub use platform::Platform;
pub use rate_card::{
    Calibration, DeliverableItem, FlatReach, NewRateCard, RateCard, ReachBasis, ReachContext,
    ReachEstimate, ReachEstimator, ReachSource, TieredReach, card_or_heuristic,
};
pub use report::{
    BudgetLine, CampaignReport, CountDrop, CreatorRow, DeliverableLine, DeliveryCounts,
    DeliveryState, LatestSnapshot, PlanSummary, ReachVerdict, ReportInput, ReportTotals,
    ReportWarning,
};
pub use results::{Count, NewSnapshot, PostMetrics, Snapshot};
pub use search::{
    KolMatch, KolSearch, MatchedKol, SearchError, SearchMode, SearchRequest, order_matches,
};
pub use text::PlainText;
pub use time::check_timestamp;
