//! Messages inside an outreach conversation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::conversation::string_enum_impls;
use crate::error::{CoreError, Result};
use crate::ids::{ConversationId, MessageId};
use crate::text;

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Direction {
    /// Our message to the creator (`out`).
    Out,
    /// The creator's reply (`in`).
    In,
}

impl Direction {
    /// Both directions.
    pub const ALL: [Self; 2] = [Self::Out, Self::In];

    /// The stored name: `"out"` or `"in"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Out => "out",
            Self::In => "in",
        }
    }
}

string_enum_impls!(Direction, "message direction", "out, in");

/// The text of a message.
///
/// Invariant: not empty or whitespace-only, at most [`MessageBody::MAX_CHARS`] characters, no NUL.
/// Surrounding whitespace is kept as written (only the emptiness check ignores it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageBody(String);

impl MessageBody {
    /// Longest accepted body, in characters (a long e-mail; DMs are far shorter).
    pub const MAX_CHARS: usize = 10_000;

    /// Checks and wraps a message text.
    ///
    /// # Errors
    /// [`CoreError::InvalidText`] naming `message body` when it is empty or whitespace-only,
    /// longer than [`MessageBody::MAX_CHARS`], or holds a NUL character.
    pub fn new(body: impl Into<String>) -> Result<Self> {
        let body = body.into();
        if body.trim().is_empty() {
            return Err(CoreError::InvalidText {
                field: "message body",
                reason: "it is empty or whitespace only".to_owned(),
            });
        }
        text::check_storable("message body", &body, Self::MAX_CHARS)?;
        Ok(Self(body))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MessageBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MessageBody {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<MessageBody> for String {
    fn from(b: MessageBody) -> Self {
        b.0
    }
}

/// A message not yet stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMessage {
    /// Who sent it.
    pub direction: Direction,
    /// What it says.
    pub body: MessageBody,
}

impl NewMessage {
    /// Our message to the creator.
    pub fn outbound(body: MessageBody) -> Self {
        Self {
            direction: Direction::Out,
            body,
        }
    }

    /// The creator's reply.
    pub fn inbound(body: MessageBody) -> Self {
        Self {
            direction: Direction::In,
            body,
        }
    }
}

/// A stored message (`messages` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Row id.
    pub id: MessageId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Who sent it.
    pub direction: Direction,
    /// What it says.
    pub body: MessageBody,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked() {
        assert!(MessageBody::new("สวัสดีค่ะ").is_ok());
        assert!(MessageBody::new(" \n\t ").is_err());
        assert!(MessageBody::new("").is_err());
        assert!(MessageBody::new("a\0b").is_err());
        assert!(MessageBody::new("x".repeat(MessageBody::MAX_CHARS)).is_ok());
        assert!(MessageBody::new("x".repeat(MessageBody::MAX_CHARS + 1)).is_err());
        assert_eq!(MessageBody::new("  hi ").unwrap().as_str(), "  hi ");
    }

    #[test]
    fn directions_round_trip() {
        for d in Direction::ALL {
            assert_eq!(d.as_str().parse::<Direction>().unwrap(), d);
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(serde_json::from_str::<Direction>(&json).unwrap(), d);
        }
        assert!(serde_json::from_str::<Direction>("\"sideways\"").is_err());
    }
}
