//! The one error type of `kol-core`: every way a value can fail validation.

use crate::conversation::ConversationStatus;

/// Everything that can go wrong while building or changing a `kol-core` value.
///
/// Each variant names the offending input or field, so its `Display` is a message a user can act
/// on, and a caller can `match` on the variant to decide what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The platform name is not one this library knows.
    #[error("unknown platform {input:?} (expected one of: {expected})")]
    UnknownPlatform {
        /// What the caller gave.
        input: String,
        /// The accepted names, comma-separated.
        expected: &'static str,
    },
    /// A username is empty or holds characters its platform does not allow.
    #[error("invalid username {input:?}: {reason}")]
    InvalidUsername {
        /// What the caller gave.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A profile URL could not be read as `platform + username`.
    #[error("not a creator profile URL {input:?}: {reason}")]
    InvalidProfileUrl {
        /// What the caller gave.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A link is not an absolute `http` or `https` URL.
    #[error("invalid link {input:?}: {reason}")]
    InvalidLink {
        /// What the caller gave.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A country code is not an assigned ISO 3166-1 alpha-2 code.
    #[error("unknown country code {input:?} (expected an ISO 3166-1 alpha-2 code such as \"TH\")")]
    UnknownCountry {
        /// What the caller gave.
        input: String,
    },
    /// A category tag is empty, too long, or holds characters a tag cannot have.
    #[error("invalid category {input:?}: {reason}")]
    InvalidCategory {
        /// What the caller gave.
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A number is outside the range its field allows.
    #[error("{field} must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// The field, e.g. `"followers"` or `"audience_th_pct"`.
        field: &'static str,
        /// The rejected value.
        value: i128,
        /// Smallest accepted value.
        min: i128,
        /// Largest accepted value.
        max: i128,
    },
    /// A text field is empty (after trimming) or longer than its limit.
    #[error("{field}: {reason}")]
    InvalidText {
        /// The field, e.g. `"message body"`.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// A string is not one of the names of an enumeration (media kind, channel, status...).
    #[error("unknown {kind} {input:?} (expected one of: {expected})")]
    UnknownVariant {
        /// What is being parsed, e.g. `"channel"`.
        kind: &'static str,
        /// What the caller gave.
        input: String,
        /// The accepted names, comma-separated.
        expected: &'static str,
    },
    /// A deliverable item name is not a lower-case slug.
    #[error("invalid deliverable item {input:?}: {reason}")]
    InvalidDeliverableItem {
        /// What the caller gave.
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An embedding does not have exactly [`Embedding::DIM`](crate::Embedding::DIM) values.
    #[error("an embedding has {expected} values, got {actual}")]
    EmbeddingDimension {
        /// Always [`Embedding::DIM`](crate::Embedding::DIM).
        expected: usize,
        /// What the caller gave.
        actual: usize,
    },
    /// An embedding holds a NaN or an infinity.
    #[error("embedding value {index} is not finite ({value})")]
    EmbeddingNotFinite {
        /// Position of the first bad value.
        index: usize,
        /// The value itself.
        value: f32,
    },
    /// An embedding is all zeros (or so close that its norm underflows): it has no direction.
    #[error("an embedding must have a non-zero norm")]
    EmbeddingZeroNorm,
    /// An embedding's squared norm overflows `f32`, so pgvector could not compare it.
    #[error("an embedding's norm is too large ({norm:e}); its square must fit an f32")]
    EmbeddingNormOverflow {
        /// The Euclidean norm.
        norm: f64,
    },
    /// A media row has neither a local path nor a public URL.
    #[error("a media item needs a local path or a public URL (or both)")]
    MissingMediaLocation,
    /// The `extra` field of a creator is not a JSON object.
    #[error("extra must be a JSON object, got {found}")]
    ExtraNotAnObject {
        /// The JSON type found instead.
        found: &'static str,
    },
    /// The `extra` JSON nests deeper than [`crate::Extra::MAX_DEPTH`] levels or holds a number
    /// beyond [`crate::Extra::MAX_ABS_NUMBER`]: values every JSON reader (serde_json included)
    /// can read back.
    #[error("extra: {reason}")]
    InvalidExtra {
        /// What is wrong with it.
        reason: String,
    },
    /// A point in time outside the years 1 to 9999 (UTC), or one that cannot be read at all
    /// (PostgreSQL's `infinity`).
    #[error("{field} must be a time in the years 1 to 9999 (UTC), got {value}")]
    InvalidTimestamp {
        /// The field.
        field: &'static str,
        /// The value as read.
        value: String,
    },
    /// A campaign period that ends before it starts, or lies outside the years 1 to 9999.
    #[error("invalid campaign period: {reason}")]
    InvalidPeriod {
        /// What is wrong with it.
        reason: String,
    },
    /// A plan record whose figures do not add up (a creator twice, over budget, a gap outside
    /// `[0, 1]`, reach above its bound, a figure that is not a number of people).
    #[error("invalid plan: {reason}")]
    InvalidPlan {
        /// What is wrong with it.
        reason: String,
    },
    /// A post URL that is not a link to a post on the creator's platform.
    #[error("invalid post URL {input:?}: {reason}")]
    InvalidPostUrl {
        /// The URL as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A move between two statuses that the state machine does not allow (campaigns, creators in
    /// a campaign, deliverables).
    #[error("a {kind} cannot go from {from} to {to}")]
    InvalidStatusChange {
        /// What moves (`campaign`, `campaign creator`, `deliverable`).
        kind: &'static str,
        /// Status before.
        from: &'static str,
        /// Requested status.
        to: &'static str,
    },
    /// A conversation cannot move from one status to another.
    #[error("a conversation cannot go from {from} to {to}")]
    InvalidTransition {
        /// Status before.
        from: ConversationStatus,
        /// Requested status.
        to: ConversationStatus,
    },
    /// Terms that do not fit the conversation's status (agreed terms before confirmation, no
    /// proposal while negotiating).
    #[error("terms do not fit the conversation: {reason}")]
    InvalidTerms {
        /// What is wrong.
        reason: String,
    },
    /// A confirmed conversation must carry the agreed deliverables, timeline and price.
    #[error("a confirmed conversation needs agreed terms (deliverables, timeline and price)")]
    MissingAgreedTerms,
}

/// `Result` with [`CoreError`] as the error.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
