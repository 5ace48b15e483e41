//! Deliverables: each post a confirmed creator agreed to make for a campaign, from agreement
//! to the verified post.
//!
//! ```text
//! agreed -> draft_submitted -> approved -> posted -> verified
//! agreed -> posted                  (no draft review)
//! draft_submitted -> agreed         (draft rejected: back to work)
//! agreed | draft_submitted | approved -> missed
//! ```
//!
//! A posted (or verified) deliverable has its post: a [`PostUrl`] on the creator's own platform
//! and the time it went up. Nothing else has one.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::conversation::string_enum_impls;
use crate::error::{CoreError, Result};
use crate::ids::{CampaignId, ConversationId, DeliverableId, KolId};
use crate::kol::Link;
use crate::platform::Platform;
use crate::rate_card::DeliverableItem;

/// Where a deliverable is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum DeliverableStatus {
    /// Agreed, not yet shown.
    Agreed,
    /// A draft was sent for review.
    DraftSubmitted,
    /// The draft was approved.
    Approved,
    /// It is online.
    Posted,
    /// The post was checked.
    Verified,
    /// It was not delivered.
    Missed,
}

impl DeliverableStatus {
    /// Every status, in life order.
    pub const ALL: [Self; 6] = [
        Self::Agreed,
        Self::DraftSubmitted,
        Self::Approved,
        Self::Posted,
        Self::Verified,
        Self::Missed,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Agreed => "agreed",
            Self::DraftSubmitted => "draft_submitted",
            Self::Approved => "approved",
            Self::Posted => "posted",
            Self::Verified => "verified",
            Self::Missed => "missed",
        }
    }

    /// Whether a deliverable may move from `self` to `to` (see the module docs).
    pub const fn can_transition_to(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Agreed, Self::DraftSubmitted | Self::Posted)
                | (Self::DraftSubmitted, Self::Approved | Self::Agreed)
                | (Self::Approved, Self::Posted)
                | (Self::Posted, Self::Verified)
                | (
                    Self::Agreed | Self::DraftSubmitted | Self::Approved,
                    Self::Missed
                )
        )
    }

    /// Whether a deliverable in this status has a post online.
    pub const fn is_posted(self) -> bool {
        matches!(self, Self::Posted | Self::Verified)
    }
}

string_enum_impls!(
    DeliverableStatus,
    "deliverable status",
    "agreed, draft_submitted, approved, posted, verified, missed"
);

/// The link to a post: a [`Link`] whose host is a site of the creator's platform
/// ([`Platform::from_post_host`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct PostUrl {
    platform: Platform,
    link: Link,
}

impl PostUrl {
    /// Checks that `input` is a link to a post on `platform`.
    ///
    /// # Errors
    /// [`CoreError::InvalidPostUrl`] when it is not a valid link ([`Link::new`]'s rules) or its
    /// host belongs to another platform, or to none.
    pub fn new(platform: Platform, input: &str) -> Result<Self> {
        let invalid = |reason: String| CoreError::InvalidPostUrl {
            input: input.to_owned(),
            reason,
        };
        let link = Link::new(input).map_err(|e| invalid(e.to_string()))?;
        let url = url::Url::parse(link.as_str()).map_err(|e| invalid(e.to_string()))?;
        let host = url.host_str().unwrap_or_default();
        match Platform::from_post_host(host) {
            Some(p) if p == platform => Ok(Self { platform, link }),
            Some(other) => Err(invalid(format!(
                "it is a {other} link, and the creator is on {platform}"
            ))),
            None => Err(invalid(format!("{host} is not a {platform} site"))),
        }
    }

    /// The platform.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The link.
    pub fn as_str(&self) -> &str {
        self.link.as_str()
    }
}

impl From<PostUrl> for String {
    fn from(u: PostUrl) -> Self {
        u.link.into()
    }
}

impl std::fmt::Display for PostUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A post online: where, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Post {
    /// The link.
    pub url: PostUrl,
    /// When it went up.
    pub posted_at: DateTime<Utc>,
}

/// A deliverable to create when terms are agreed: which planned item, due when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeliverable {
    /// The rate-card item of the creator's plan entry it delivers.
    pub item: DeliverableItem,
    /// The day it is due (a post later than this day is late).
    pub due_on: NaiveDate,
}

/// The fields of a stored deliverable, checked together by [`Deliverable::from_parts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliverableParts {
    /// Its id.
    pub id: DeliverableId,
    /// The campaign.
    pub campaign_id: CampaignId,
    /// The creator.
    pub kol_id: KolId,
    /// The conversation whose agreement created it.
    pub conversation_id: ConversationId,
    /// The planned item it delivers.
    pub item: DeliverableItem,
    /// Due day.
    pub due_on: NaiveDate,
    /// Where it is.
    pub status: DeliverableStatus,
    /// Its post, once posted.
    pub post: Option<Post>,
}

/// A stored deliverable. Invariant: it has a post exactly when its status is posted or
/// verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "DeliverableParts")]
pub struct Deliverable {
    parts: DeliverableParts,
}

impl From<Deliverable> for DeliverableParts {
    fn from(d: Deliverable) -> Self {
        d.parts
    }
}

impl Deliverable {
    /// Checks and builds a deliverable.
    ///
    /// # Errors
    /// [`CoreError::InvalidPostUrl`] when a posted deliverable has no post or another one has
    /// one.
    pub fn from_parts(parts: DeliverableParts) -> Result<Self> {
        if parts.status.is_posted() != parts.post.is_some() {
            return Err(CoreError::InvalidPostUrl {
                input: parts
                    .post
                    .as_ref()
                    .map(|p| p.url.to_string())
                    .unwrap_or_default(),
                reason: format!(
                    "a {} deliverable {} a post",
                    parts.status,
                    if parts.post.is_some() {
                        "cannot have"
                    } else {
                        "needs"
                    }
                ),
            });
        }
        Ok(Self { parts })
    }

    /// Its fields.
    pub fn parts(&self) -> &DeliverableParts {
        &self.parts
    }

    /// Its id.
    pub fn id(&self) -> DeliverableId {
        self.parts.id
    }

    /// Where it is.
    pub fn status(&self) -> DeliverableStatus {
        self.parts.status
    }

    /// Its post, when posted or verified.
    pub fn post(&self) -> Option<&Post> {
        self.parts.post.as_ref()
    }

    /// Checks a move to `to`.
    ///
    /// # Errors
    /// [`CoreError::InvalidStatusChange`] when the state machine does not allow it.
    pub fn check_move(&self, to: DeliverableStatus) -> Result<()> {
        let from = self.parts.status;
        if from.can_transition_to(to) {
            Ok(())
        } else {
            Err(CoreError::InvalidStatusChange {
                kind: "deliverable",
                from: from.as_str(),
                to: to.as_str(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves() {
        use DeliverableStatus::*;
        let allowed = [
            (Agreed, DraftSubmitted),
            (Agreed, Posted),
            (DraftSubmitted, Approved),
            (DraftSubmitted, Agreed),
            (Approved, Posted),
            (Posted, Verified),
            (Agreed, Missed),
            (DraftSubmitted, Missed),
            (Approved, Missed),
        ];
        for from in DeliverableStatus::ALL {
            for to in DeliverableStatus::ALL {
                assert_eq!(from.can_transition_to(to), allowed.contains(&(from, to)));
            }
        }
    }

    #[test]
    fn post_urls_are_on_the_creators_platform() {
        for (platform, url) in [
            (
                Platform::Tiktok,
                "https://www.tiktok.com/@porji/video/7312345678901234567",
            ),
            (Platform::Tiktok, "https://vt.tiktok.com/ZSabc123/"),
            (
                Platform::Instagram,
                "https://www.instagram.com/p/C1a2b3c4d5e/",
            ),
            (Platform::Youtube, "https://youtu.be/dQw4w9WgXcQ"),
            (Platform::Youtube, "https://m.youtube.com/shorts/abc"),
            (Platform::Facebook, "https://fb.watch/abc/"),
            (Platform::X, "https://twitter.com/porji/status/1"),
        ] {
            assert_eq!(PostUrl::new(platform, url).unwrap().as_str(), url);
        }
        for (platform, url) in [
            (Platform::Tiktok, "https://www.instagram.com/p/C1a2b3c4d5e/"),
            (Platform::Instagram, "https://www.tiktok.com/@porji/video/1"),
            (Platform::Tiktok, "https://example.com/video/1"),
            (Platform::Tiktok, "https://tiktok.com.evil.example/video/1"),
            (Platform::Tiktok, "ftp://www.tiktok.com/@porji/video/1"),
            (Platform::Tiktok, "https://www.tiktok.com/@porji/video/1 x"),
        ] {
            assert!(
                matches!(
                    PostUrl::new(platform, url),
                    Err(CoreError::InvalidPostUrl { .. })
                ),
                "{url}"
            );
        }
    }
}
