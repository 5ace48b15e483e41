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
/// Invariant: starts with `http://` or `https://` (the scheme is lower-cased on construction),
/// parses as a URL with a host, holds no whitespace or control character, at most
/// [`Link::MAX_CHARS`] characters. Otherwise kept as written (after trimming), not re-serialized.
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
        if let Some(c) = trimmed
            .chars()
            .find(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(format!("it contains the character {c:?}")));
        }
        let url = url::Url::parse(trimmed).map_err(|e| invalid(e.to_string()))?;
        let scheme = url.scheme();
        if !matches!(scheme, "http" | "https") {
            return Err(invalid(format!("scheme {scheme:?} is not http or https")));
        }
        // `https:example.com` parses too; a link spells out `https://`.
        let rest = trimmed
            .get(scheme.len()..)
            .and_then(|r| r.strip_prefix("://"))
            .ok_or_else(|| invalid(format!("it must start with {scheme}://")))?;
        // `https:///host/path` parses too (the URL standard skips the extra slash); the host
        // follows `://` directly in a link.
        if rest.starts_with(['/', '\\']) || url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host".to_owned()));
        }
        Ok(Self(format!("{scheme}://{rest}")))
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
///
/// Invariant: an object, no key or string anywhere in it holds a NUL character (PostgreSQL's
/// `JSONB` cannot store one), at most [`Extra::MAX_DEPTH`] levels deep, and no number beyond
/// [`Extra::MAX_ABS_NUMBER`] (so that it always reads back). Serializes as the object itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value", into = "serde_json::Value")]
pub struct Extra(serde_json::Map<String, serde_json::Value>);

impl Extra {
    /// No extra data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Deepest accepted nesting of arrays and objects, the object itself included (`{}` is one
    /// level, `{"a": [1]}` two). serde_json refuses to read past 128 levels; the database
    /// applies the same limit (`kol_extra_valid`), so whatever is stored reads back.
    pub const MAX_DEPTH: usize = 64;

    /// Largest accepted magnitude of a number. PostgreSQL's `JSONB` stores any decimal
    /// (`1e400` included) but serde_json reads only what fits an `f64`; the database applies the
    /// same bound.
    pub const MAX_ABS_NUMBER: f64 = 1e308;

    /// Checks that `value` is a JSON object storable in `JSONB` and readable back.
    ///
    /// # Errors
    /// [`CoreError::ExtraNotAnObject`] for any other JSON type; [`CoreError::InvalidText`]
    /// (field `extra`) for a NUL character in a key or a string; [`CoreError::InvalidExtra`]
    /// for nesting deeper than [`Extra::MAX_DEPTH`] or a number beyond
    /// [`Extra::MAX_ABS_NUMBER`].
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        use serde_json::Value;
        let map = match value {
            Value::Object(map) => map,
            Value::Null => return Err(CoreError::ExtraNotAnObject { found: "null" }),
            Value::Bool(_) => return Err(CoreError::ExtraNotAnObject { found: "a boolean" }),
            Value::Number(_) => return Err(CoreError::ExtraNotAnObject { found: "a number" }),
            Value::String(_) => return Err(CoreError::ExtraNotAnObject { found: "a string" }),
            Value::Array(_) => return Err(CoreError::ExtraNotAnObject { found: "an array" }),
        };
        for (k, v) in &map {
            check_json_text(k)?;
            check_json_value(v, Self::MAX_DEPTH - 1)?;
        }
        Ok(Self(map))
    }

    /// Sets `key` to `value`.
    ///
    /// # Errors
    /// [`CoreError::InvalidText`] for a NUL character in the key or in a string of the value,
    /// [`CoreError::InvalidExtra`] for a value nested too deep or holding a number out of range
    /// (see [`Extra::from_json`]); nothing is changed then.
    pub fn insert(&mut self, key: impl Into<String>, value: serde_json::Value) -> Result<()> {
        let key = key.into();
        check_json_text(&key)?;
        check_json_value(&value, Self::MAX_DEPTH - 1)?;
        self.0.insert(key, value);
        Ok(())
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }

    /// The object.
    pub fn as_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn check_json_text(s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(CoreError::InvalidText {
            field: "extra",
            reason: "it contains a NUL character".to_owned(),
        });
    }
    Ok(())
}

/// Checks a value nested inside `extra`, where `levels_left` more levels of arrays and objects
/// are allowed.
fn check_json_value(v: &serde_json::Value, levels_left: usize) -> Result<()> {
    use serde_json::Value;
    let too_deep = || CoreError::InvalidExtra {
        reason: format!("it nests deeper than {} levels", Extra::MAX_DEPTH),
    };
    match v {
        Value::String(s) => check_json_text(s),
        Value::Array(items) => {
            let inner = levels_left.checked_sub(1).ok_or_else(too_deep)?;
            items.iter().try_for_each(|v| check_json_value(v, inner))
        }
        Value::Object(map) => {
            let inner = levels_left.checked_sub(1).ok_or_else(too_deep)?;
            map.iter()
                .try_for_each(|(k, v)| check_json_text(k).and_then(|()| check_json_value(v, inner)))
        }
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.abs() <= Extra::MAX_ABS_NUMBER => Ok(()),
            _ => Err(CoreError::InvalidExtra {
                reason: format!("the number {n} is beyond +/-{:e}", Extra::MAX_ABS_NUMBER),
            }),
        },
        Value::Null | Value::Bool(_) => Ok(()),
    }
}

impl TryFrom<serde_json::Value> for Extra {
    type Error = CoreError;

    fn try_from(value: serde_json::Value) -> Result<Self> {
        Self::from_json(value)
    }
}

impl From<Extra> for serde_json::Value {
    fn from(extra: Extra) -> Self {
        serde_json::Value::Object(extra.0)
    }
}

/// A creator not yet stored (or the new version of one, for an upsert).
///
/// Every field holds a validated type, so any value of this struct is a valid row. Serialized
/// with the schema's column names; `platform` and `username` sit at the top level.
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
        assert_eq!(
            Link::new("HTTPS://Example.com/A").unwrap().as_str(),
            "https://Example.com/A"
        );
        for bad in [
            "https:example.com/a",
            "https://a.com/\u{0}",
            "https://a.com/\u{7}",
            "",
            "example.com",
            "javascript:alert(1)",
            "ftp://x.org/a",
            "https://",
            "https:///example.com/a",
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
    fn extra_must_be_a_storable_object() {
        assert!(Extra::from_json(serde_json::json!({"a": 1})).is_ok());
        assert_eq!(
            Extra::from_json(serde_json::json!([1])),
            Err(CoreError::ExtraNotAnObject { found: "an array" })
        );
        assert!(Extra::from_json(serde_json::json!({"a": {"b": ["x\u{0}"]}})).is_err());
        assert!(Extra::from_json(serde_json::json!({"k\u{0}": 1})).is_err());
        let mut e = Extra::new();
        assert!(e.insert("line", serde_json::json!("id\u{0}")).is_err());
        assert!(e.is_empty(), "a refused insert changes nothing");
        e.insert("line", serde_json::json!("porji")).unwrap();
        assert_eq!(e.get("line"), Some(&serde_json::json!("porji")));
    }
}

#[cfg(test)]
mod extra_limits {
    use super::*;
    use serde_json::json;

    /// `{"a": {"a": ... 1}}` with `levels` objects in all.
    fn nested(levels: usize) -> serde_json::Value {
        (1..levels).fold(json!({ "a": 1 }), |inner, _| json!({ "a": inner }))
    }

    #[test]
    fn nesting_is_bounded_at_max_depth() {
        assert!(Extra::from_json(nested(Extra::MAX_DEPTH)).is_ok());
        assert!(matches!(
            Extra::from_json(nested(Extra::MAX_DEPTH + 1)),
            Err(CoreError::InvalidExtra { .. })
        ));
        let mut deep_array = json!(1);
        for _ in 0..Extra::MAX_DEPTH {
            deep_array = json!([deep_array]);
        }
        let mut extra = Extra::new();
        assert!(matches!(
            extra.insert("a", deep_array),
            Err(CoreError::InvalidExtra { .. })
        ));
        assert!(extra.is_empty(), "nothing inserted");
    }

    #[test]
    fn numbers_are_bounded() {
        assert!(Extra::from_json(json!({ "n": 1e308, "m": -1e308, "i": u64::MAX })).is_ok());
        assert!(matches!(
            Extra::from_json(json!({ "n": [1.5e308] })),
            Err(CoreError::InvalidExtra { .. })
        ));
        // serde_json refuses to read 1e400 at all: the database must never hold it.
        assert!(serde_json::from_str::<serde_json::Value>(r#"{"n": 1e400}"#).is_err());
    }

    #[test]
    fn deserializing_applies_the_same_limits() {
        let text = serde_json::to_string(&nested(Extra::MAX_DEPTH + 1)).unwrap();
        assert!(serde_json::from_str::<Extra>(&text).is_err());
    }
}
