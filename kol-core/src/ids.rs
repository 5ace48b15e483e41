//! Typed identifiers of stored rows, so a media id is never passed where a KOL id belongs.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Identifiers are the `BIGSERIAL` primary keys the database assigns; any `i64` is accepted,
        /// since only the database decides which ones exist.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw key.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id_type!(
    /// Identifier of a creator (`kols.id`).
    KolId
);
id_type!(
    /// Identifier of a picture of a creator (`kol_media.id`).
    MediaId
);
id_type!(
    /// Identifier of a rate-card item (`rate_cards.id`).
    RateCardId
);
id_type!(
    /// Identifier of an outreach conversation (`conversations.id`).
    ConversationId
);
id_type!(
    /// Identifier of a message inside a conversation (`messages.id`).
    MessageId
);
id_type!(
    /// Identifier of a campaign (`campaigns.id`).
    CampaignId
);
id_type!(
    /// Identifier of a deliverable of a campaign (`deliverables.id`).
    DeliverableId
);
id_type!(
    /// Identifier of a metric snapshot of a posted deliverable (`post_snapshots.id`).
    SnapshotId
);
