//! Creators (`kols` rows): who they are, where, how big, and for whom.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::category::Categories;
use crate::country::CountryCode;
use crate::error::{CoreError, Result};
use crate::handle::Handle;
use crate::ids::KolId;
use crate::metrics::{AudienceShare, FollowerTier, Followers};
use crate::text::PlainText;

/// An absolute `http` or `https` URL (a sample post, a profile, a public image).
///
/// Invariant: parses as a URL with an `http`/`https` scheme and a host; at most
/// [`Link::MAX_CHARS`] characters. Kept as written (after trimming), not re-serialized.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Link(String);

impl Link {
    /// Longest accepted link.
    pub const MAX_CHARS: usize = 2_048;

    /// Checks a link.
    ///
    /// # Errors
    /// [`CoreError::InvalidLink`] unless it is an absolute http(s) URL with a host.
    pub fn new(input: &str) -> Result<Self> {
        let invalid = |reason: String| CoreError::InvalidLink {
            input: input.to_owned(),
            reason,
        };
        let trimmed = input.trim();
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(invalid(format!(
                "it is longer than {} characters",
                Self::MAX_CHARS
            )));
        }
        let url = url::Url::parse(trimmed).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "scheme {:?} is not http or https",
                url.scheme()
            )));
        }
        if trimmed.chars().any(char::is_whitespace) {
            return Err(invalid("it contains whitespace".to_owned()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host".to_owned()));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The link.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Link {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for Link {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<Link> for String {
    fn from(l: Link) -> Self {
        l.0
    }
}

/// Free-form extra data of a creator: a JSON object (`kols.extra`, `JSONB`).
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Checks that a JSON value is an object and returns it as [`Extra`].
///
/// # Errors
/// [`CoreError::ExtraNotAnObject`] for any other JSON type.
pub fn extra_from_json(value: serde_json::Value) -> Result<Extra> {
    use serde_json::Value;
    match value {
        Value::Object(map) => Ok(map),
        Value::Null => Err(CoreError::ExtraNotAnObject { found: "null" }),
        Value::Bool(_) => Err(CoreError::ExtraNotAnObject { found: "a boolean" }),
        Value::Number(_) => Err(CoreError::ExtraNotAnObject { found: "a number" }),
        Value::String(_) => Err(CoreError::ExtraNotAnObject { found: "a string" }),
        Value::Array(_) => Err(CoreError::ExtraNotAnObject { found: "an array" }),
    }
}

/// A creator not yet stored (or the new version of one, for an upsert).
///
/// Every field holds a validated type, so any value of this struct is a valid row. Serialized
/// with the seed's column names; `platform` and `username` sit at the top level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewKol {
    /// Platform and normalized username: the creator's key.
    #[serde(flatten)]
    pub handle: Handle,
    /// Name shown on the profile ("Porji").
    #[serde(default)]
    pub display_name: Option<PlainText>,
    /// Content categories.
    #[serde(default, rename = "category")]
    pub categories: Categories,
    /// Current follower count, when known.
    #[serde(default)]
    pub followers: Option<Followers>,
    /// Home country.
    #[serde(default)]
    pub country: Option<CountryCode>,
    /// How to reach the creator (usually the profile URL, or an e-mail or LINE id).
    #[serde(default)]
    pub contact: Option<PlainText>,
    /// Example posts or profile links.
    #[serde(default)]
    pub sample_links: Vec<Link>,
    /// Anything else, as a JSON object.
    #[serde(default)]
    pub extra: Extra,
    /// Share of the audience in Thailand, when known.
    #[serde(default)]
    pub audience_th_pct: Option<AudienceShare>,
}

impl NewKol {
    /// A creator with only a handle; every other field empty.
    pub fn new(handle: Handle) -> Self {
        Self {
            handle,
            display_name: None,
            categories: Categories::new(),
            followers: None,
            country: None,
            contact: None,
            sample_links: Vec::new(),
            extra: Extra::new(),
            audience_th_pct: None,
        }
    }

    /// The follower tier, when the follower count is known.
    pub fn tier(&self) -> Option<FollowerTier> {
        self.followers.map(FollowerTier::of)
    }
}

/// A stored creator (`kols` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kol {
    /// Row id.
    pub id: KolId,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// Everything else.
    #[serde(flatten)]
    pub profile: NewKol,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Platform;

    #[test]
    fn links_are_http_urls() {
        assert!(Link::new("https://www.tiktok.com/@porji/video/1").is_ok());
        assert!(Link::new(" http://example.com ").is_ok());
        for bad in [
            "",
            "example.com",
            "javascript:alert(1)",
            "ftp://x.org/a",
            "https://",
        ] {
            assert!(
                matches!(Link::new(bad), Err(CoreError::InvalidLink { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn json_uses_seed_column_names_and_validates() {
        let json = r#"{
            "platform": "TikTok", "username": "@Porji", "display_name": " Porji ",
            "category": ["Beauty", "skincare"], "followers": 120000, "country": "th",
            "contact": "https://www.tiktok.com/@Porji?lang=th",
            "sample_links": ["https://www.tiktok.com/@porji/video/1"],
            "extra": {"line_id": "porji"}, "audience_th_pct": 85
        }"#;
        let kol: NewKol = serde_json::from_str(json).unwrap();
        assert_eq!(kol.handle, Handle::new(Platform::Tiktok, "porji").unwrap());
        assert_eq!(kol.display_name.as_ref().unwrap().as_str(), "Porji");
        assert_eq!(kol.categories.to_strings(), ["beauty", "skincare"]);
        assert_eq!(kol.country, Some(CountryCode::TH));
        assert_eq!(kol.tier(), Some(FollowerTier::Mid));
        let back: NewKol = serde_json::from_str(&serde_json::to_string(&kol).unwrap()).unwrap();
        assert_eq!(back, kol);

        for bad in [
            json.replace("\"th\"", "\"zz\""),
            json.replace("85", "101"),
            json.replace("120000", "-5"),
            json.replace("\"@Porji\"", "\"has space\""),
            json.replace("{\"line_id\": \"porji\"}", "[1]"),
        ] {
            assert!(serde_json::from_str::<NewKol>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stored_kols_round_trip_with_id_and_time() {
        let mut profile = NewKol::new(Handle::new(Platform::X, "someone").unwrap());
        profile.followers = Some(Followers::new(12).unwrap());
        let kol = Kol {
            id: KolId(9),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            profile,
        };
        let json = serde_json::to_value(&kol).unwrap();
        assert_eq!(json["id"], 9);
        assert_eq!(json["platform"], "x");
        assert_eq!(json["username"], "someone");
        assert_eq!(serde_json::from_value::<Kol>(json).unwrap(), kol);
    }

    #[test]
    fn extra_must_be_an_object() {
        assert!(extra_from_json(serde_json::json!({"a": 1})).is_ok());
        assert_eq!(
            extra_from_json(serde_json::json!([1])),
            Err(CoreError::ExtraNotAnObject { found: "an array" })
        );
    }
}
