//! Outreach conversations and their state machine.
//!
//! A conversation moves only forward: `contacted -> negotiating -> confirmed -> closed`, and any
//! open status may go straight to `closed`. Proposing terms (again) keeps it `negotiating`. A
//! closed conversation never reopens (a new one is started instead), and a `confirmed` one always
//! carries the agreed deliverables, timeline and price. [`Conversation`] holds these rules: its
//! fields are private and only [`Conversation::apply`] changes them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::ids::{CampaignId, ConversationId, KolId};
use crate::metrics::PriceThb;
use crate::text;

/// Where an outreach conversation happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Channel {
    /// A direct message on the creator's platform.
    Dm,
    /// E-mail.
    Email,
    /// LINE, the messenger most Thai creators use.
    Line,
    /// WhatsApp.
    Whatsapp,
    /// A phone call or SMS.
    Phone,
    /// Through the creator's agency or manager.
    Agency,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Self; 6] = [
        Self::Dm,
        Self::Email,
        Self::Line,
        Self::Whatsapp,
        Self::Phone,
        Self::Agency,
    ];

    /// The stored name (`"dm"`, `"email"`, `"line"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Dm => "dm",
            Self::Email => "email",
            Self::Line => "line",
            Self::Whatsapp => "whatsapp",
            Self::Phone => "phone",
            Self::Agency => "agency",
        }
    }
}

/// Status of an outreach conversation (`conversations.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum ConversationStatus {
    /// We sent the first message; no terms yet.
    Contacted,
    /// Terms have been proposed.
    Negotiating,
    /// Terms are agreed.
    Confirmed,
    /// Over (done, declined or abandoned). Final.
    Closed,
}

impl ConversationStatus {
    /// Every status, in the order a conversation goes through them.
    pub const ALL: [Self; 4] = [
        Self::Contacted,
        Self::Negotiating,
        Self::Confirmed,
        Self::Closed,
    ];

    /// The stored name (`"contacted"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Contacted => "contacted",
            Self::Negotiating => "negotiating",
            Self::Confirmed => "confirmed",
            Self::Closed => "closed",
        }
    }

    /// Whether the conversation is still open (anything but `closed`). A KOL has at most one open
    /// conversation.
    pub const fn is_open(self) -> bool {
        !matches!(self, Self::Closed)
    }

    /// Whether a conversation in this status may move to `next`.
    ///
    /// Allowed: `contacted -> negotiating`, `negotiating -> negotiating` (a new proposal),
    /// `negotiating -> confirmed`, and any open status `-> closed`.
    pub const fn can_transition_to(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Contacted | Self::Negotiating, Self::Negotiating)
                | (Self::Negotiating, Self::Confirmed)
                | (
                    Self::Contacted | Self::Negotiating | Self::Confirmed,
                    Self::Closed
                )
        )
    }
}

/// Negotiated terms: what the creator delivers, when, and for how much.
///
/// Invariant: deliverables and timeline are trimmed, non-empty texts of at most
/// [`Terms::MAX_DELIVERABLES_CHARS`] and [`Terms::MAX_TIMELINE_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTerms")]
pub struct Terms {
    deliverables: String,
    timeline: String,
    price: PriceThb,
}

#[derive(Deserialize)]
struct RawTerms {
    deliverables: String,
    timeline: String,
    price: PriceThb,
}

impl TryFrom<RawTerms> for Terms {
    type Error = CoreError;

    fn try_from(raw: RawTerms) -> Result<Self> {
        Self::new(&raw.deliverables, &raw.timeline, raw.price)
    }
}

impl Terms {
    /// Longest accepted deliverables text.
    pub const MAX_DELIVERABLES_CHARS: usize = 2_000;
    /// Longest accepted timeline text.
    pub const MAX_TIMELINE_CHARS: usize = 500;

    /// Checks and builds terms.
    ///
    /// # Errors
    /// [`CoreError::InvalidText`] when deliverables or timeline is empty or too long.
    pub fn new(deliverables: &str, timeline: &str, price: PriceThb) -> Result<Self> {
        Ok(Self {
            deliverables: text::clean("deliverables", deliverables, Self::MAX_DELIVERABLES_CHARS)?,
            timeline: text::clean("timeline", timeline, Self::MAX_TIMELINE_CHARS)?,
            price,
        })
    }

    /// What the creator delivers ("2 TikTok videos + 1 IG story").
    pub fn deliverables(&self) -> &str {
        &self.deliverables
    }

    /// When ("1-15 December 2026").
    pub fn timeline(&self) -> &str {
        &self.timeline
    }

    /// The price in THB.
    pub fn price(&self) -> PriceThb {
        self.price
    }
}

impl std::fmt::Display for Terms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; timeline: {}; price: {} THB",
            self.deliverables, self.timeline, self.price
        )
    }
}

/// A change requested of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", content = "terms", rename_all = "lowercase")]
pub enum Transition {
    /// Propose (or re-propose) terms: `contacted | negotiating -> negotiating`.
    Propose(Terms),
    /// Agree on terms: `negotiating -> confirmed`.
    Agree(Terms),
    /// End the conversation: any open status `-> closed`.
    Close,
}

impl Transition {
    /// The status the conversation has after this transition.
    pub const fn target(&self) -> ConversationStatus {
        match self {
            Self::Propose(_) => ConversationStatus::Negotiating,
            Self::Agree(_) => ConversationStatus::Confirmed,
            Self::Close => ConversationStatus::Closed,
        }
    }
}

/// A stored outreach conversation with one creator.
///
/// Invariants: a `confirmed` conversation has agreed terms; the status only changes through
/// [`Conversation::apply`], which enforces [`ConversationStatus::can_transition_to`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConversationParts", into = "ConversationParts")]
pub struct Conversation {
    parts: ConversationParts,
}

/// The plain fields of a [`Conversation`], for storage layers that read rows back.
///
/// [`Conversation::from_parts`] checks the invariants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationParts {
    /// Row id.
    pub id: ConversationId,
    /// The campaign it is for.
    pub campaign_id: CampaignId,
    /// The creator.
    pub kol_id: KolId,
    /// Where the conversation happens.
    pub channel: Channel,
    /// Current status.
    pub status: ConversationStatus,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// Time of the newest message, if any.
    pub last_message_at: Option<DateTime<Utc>>,
    /// The latest proposal.
    pub proposed: Option<Terms>,
    /// The agreed terms.
    pub agreed: Option<Terms>,
}

impl TryFrom<ConversationParts> for Conversation {
    type Error = CoreError;

    fn try_from(parts: ConversationParts) -> Result<Self> {
        Self::from_parts(parts)
    }
}

impl From<Conversation> for ConversationParts {
    fn from(c: Conversation) -> Self {
        c.parts
    }
}

impl Conversation {
    /// Checks the invariants of stored fields.
    ///
    /// # Errors
    /// [`CoreError::MissingAgreedTerms`] for a `confirmed` conversation without agreed terms;
    /// [`CoreError::InvalidTerms`] for agreed terms before confirmation, or a `negotiating`
    /// conversation without a proposal (states no transition reaches, which the database
    /// refuses too).
    pub fn from_parts(parts: ConversationParts) -> Result<Self> {
        use ConversationStatus::{Closed, Confirmed, Negotiating};
        if parts.status == Confirmed && parts.agreed.is_none() {
            return Err(CoreError::MissingAgreedTerms);
        }
        if parts.agreed.is_some() && !matches!(parts.status, Confirmed | Closed) {
            return Err(CoreError::InvalidTerms {
                reason: format!("a {} conversation has no agreed terms yet", parts.status),
            });
        }
        if parts.status == Negotiating && parts.proposed.is_none() {
            return Err(CoreError::InvalidTerms {
                reason: "a negotiating conversation has proposed terms".to_owned(),
            });
        }
        Ok(Self { parts })
    }

    /// The campaign it is for.
    pub fn campaign_id(&self) -> CampaignId {
        self.parts.campaign_id
    }

    /// Row id.
    pub fn id(&self) -> ConversationId {
        self.parts.id
    }
    /// The creator.
    pub fn kol_id(&self) -> KolId {
        self.parts.kol_id
    }
    /// Where the conversation happens.
    pub fn channel(&self) -> Channel {
        self.parts.channel
    }
    /// Current status.
    pub fn status(&self) -> ConversationStatus {
        self.parts.status
    }
    /// When it was opened.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.parts.created_at
    }
    /// Time of the newest message, if any.
    pub fn last_message_at(&self) -> Option<DateTime<Utc>> {
        self.parts.last_message_at
    }
    /// The latest proposal.
    pub fn proposed(&self) -> Option<&Terms> {
        self.parts.proposed.as_ref()
    }
    /// The agreed terms (always present when confirmed).
    pub fn agreed(&self) -> Option<&Terms> {
        self.parts.agreed.as_ref()
    }
    /// The fields, read-only.
    pub fn parts(&self) -> &ConversationParts {
        &self.parts
    }

    /// Checks that `transition` is allowed from the current status, without changing anything.
    ///
    /// # Errors
    /// [`CoreError::InvalidTransition`] when the status may not move to the transition's target.
    pub fn check(&self, transition: &Transition) -> Result<()> {
        let (from, to) = (self.parts.status, transition.target());
        if from.can_transition_to(to) {
            Ok(())
        } else {
            Err(CoreError::InvalidTransition { from, to })
        }
    }

    /// Applies `transition`; on error nothing changes.
    ///
    /// Proposing overwrites the previous proposal; agreeing records the agreed terms; closing
    /// keeps every recorded term.
    ///
    /// # Errors
    /// [`CoreError::InvalidTransition`] as in [`Conversation::check`].
    pub fn apply(&mut self, transition: Transition) -> Result<ConversationStatus> {
        self.check(&transition)?;
        let to = transition.target();
        match transition {
            Transition::Propose(terms) => self.parts.proposed = Some(terms),
            Transition::Agree(terms) => self.parts.agreed = Some(terms),
            Transition::Close => {}
        }
        self.parts.status = to;
        Ok(to)
    }
}

macro_rules! string_enum_impls {
    ($ty:ident, $kind:literal, $expected:literal) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = CoreError;

            fn from_str(s: &str) -> Result<Self> {
                let wanted = s.trim();
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| CoreError::UnknownVariant {
                        kind: $kind,
                        input: s.to_owned(),
                        expected: $expected,
                    })
            }
        }

        impl TryFrom<String> for $ty {
            type Error = CoreError;

            fn try_from(s: String) -> Result<Self> {
                s.parse()
            }
        }

        impl From<$ty> for &'static str {
            fn from(v: $ty) -> Self {
                v.as_str()
            }
        }
    };
}
pub(crate) use string_enum_impls;

string_enum_impls!(
    Channel,
    "channel",
    "dm, email, line, whatsapp, phone, agency"
);
string_enum_impls!(
    ConversationStatus,
    "conversation status",
    "contacted, negotiating, confirmed, closed"
);

#[cfg(test)]
mod tests {
    use super::*;
    use ConversationStatus::*;

    fn terms(price: i64) -> Terms {
        Terms::new(
            "1 TikTok video",
            "December 2026",
            PriceThb::new(price).unwrap(),
        )
        .unwrap()
    }

    fn fresh() -> Conversation {
        Conversation::from_parts(ConversationParts {
            id: ConversationId(1),
            campaign_id: CampaignId(3),
            kol_id: KolId(7),
            channel: Channel::Line,
            status: Contacted,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            last_message_at: None,
            proposed: None,
            agreed: None,
        })
        .unwrap()
    }

    #[test]
    fn transition_table() {
        let allowed = [
            (Contacted, Negotiating),
            (Negotiating, Negotiating),
            (Negotiating, Confirmed),
            (Contacted, Closed),
            (Negotiating, Closed),
            (Confirmed, Closed),
        ];
        for from in ConversationStatus::ALL {
            for to in ConversationStatus::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn happy_path_records_terms() {
        let mut c = fresh();
        assert_eq!(
            c.apply(Transition::Propose(terms(5_000))).unwrap(),
            Negotiating
        );
        assert_eq!(
            c.apply(Transition::Propose(terms(4_500))).unwrap(),
            Negotiating
        );
        assert_eq!(c.proposed().unwrap().price().get(), 4_500);
        assert_eq!(c.apply(Transition::Agree(terms(4_800))).unwrap(), Confirmed);
        assert_eq!(c.agreed().unwrap().price().get(), 4_800);
        assert_eq!(c.apply(Transition::Close).unwrap(), Closed);
        assert_eq!(c.agreed().unwrap().price().get(), 4_800);
    }

    #[test]
    fn invalid_transitions_change_nothing() {
        let mut c = fresh();
        let before = c.clone();
        assert_eq!(
            c.apply(Transition::Agree(terms(1))),
            Err(CoreError::InvalidTransition {
                from: Contacted,
                to: Confirmed
            })
        );
        assert_eq!(c, before);
        c.apply(Transition::Close).unwrap();
        let closed = c.clone();
        for t in [
            Transition::Propose(terms(1)),
            Transition::Agree(terms(1)),
            Transition::Close,
        ] {
            assert!(c.apply(t).is_err());
            assert_eq!(c, closed);
        }
    }

    #[test]
    fn confirmed_needs_agreed_terms() {
        let mut parts = fresh().parts().clone();
        parts.status = Confirmed;
        assert_eq!(
            Conversation::from_parts(parts.clone()),
            Err(CoreError::MissingAgreedTerms)
        );
        parts.agreed = Some(terms(10));
        assert!(Conversation::from_parts(parts).is_ok());
    }

    #[test]
    fn names_parse_case_insensitively() {
        assert_eq!("LINE".parse::<Channel>().unwrap(), Channel::Line);
        assert_eq!(
            " Negotiating ".parse::<ConversationStatus>().unwrap(),
            Negotiating
        );
        assert!(matches!(
            "fax".parse::<Channel>(),
            Err(CoreError::UnknownVariant {
                kind: "channel",
                ..
            })
        ));
        assert!(Terms::new("  ", "x", PriceThb::ZERO).is_err());
    }
}
