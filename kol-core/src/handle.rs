//! Creator handles: a normalized [`Username`] on a [`Platform`], also read from profile URLs.
//!
//! The schema stores `username` "lowercased, without @" and keys creators by
//! `(platform, username)`; its `contact` and `sample_links` columns hold profile URLs such as
//! `https://www.tiktok.com/@Porji?lang=th`. [`Handle::from_profile_url`] turns such a URL into
//! `tiktok` / `porji`, so imports can fill the key from a link.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::platform::Platform;

/// A normalized username: trimmed, without its leading `@`, lower-case.
///
/// Invariant: 1 to [`Username::MAX_LEN`] characters from `a-z`, `0-9`, `_`, `.` and `-` (the
/// union of what the supported platforms allow). A [`Handle`] further checks the rules of its
/// platform. Normalizing a normalized name gives it back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Longest username on any supported platform.
    pub const MAX_LEN: usize = 64;

    /// Normalizes (trim, strip one leading `@`, lower-case) and validates a username.
    ///
    /// # Errors
    /// [`CoreError::InvalidUsername`] for an empty name, inner whitespace, a name longer than
    /// [`Username::MAX_LEN`], or characters no supported platform allows.
    pub fn new(raw: &str) -> Result<Self> {
        let name = normalize(raw)?;
        let invalid = |reason: String| CoreError::InvalidUsername {
            input: raw.to_owned(),
            reason,
        };
        if name.chars().count() > Self::MAX_LEN {
            return Err(invalid(format!(
                "it is longer than {} characters",
                Self::MAX_LEN
            )));
        }
        if let Some(c) = name
            .chars()
            .find(|&c| !Platform::ALL.iter().any(|p| p.allows_username_char(c)))
        {
            return Err(invalid(format!(
                "character {c:?} is not allowed in a username"
            )));
        }
        Ok(Self(name))
    }

    /// Normalizes and validates a username for `platform`: its characters and length limit.
    ///
    /// # Errors
    /// As [`Username::new`], plus [`CoreError::InvalidUsername`] when the platform does not allow
    /// a character or the length.
    pub fn for_platform(platform: Platform, raw: &str) -> Result<Self> {
        let name = Self::new(raw)?;
        name.check_platform(platform, raw)?;
        Ok(name)
    }

    fn check_platform(&self, platform: Platform, raw: &str) -> Result<()> {
        let invalid = |reason: String| CoreError::InvalidUsername {
            input: raw.to_owned(),
            reason,
        };
        if let Some(c) = self.0.chars().find(|&c| !platform.allows_username_char(c)) {
            return Err(invalid(format!(
                "character {c:?} is not allowed in a {platform} username"
            )));
        }
        if platform.reserved_paths().contains(&self.0.as_str()) {
            return Err(invalid(format!(
                "{:?} is a {platform} page, not a username",
                self.0
            )));
        }
        let max = platform.max_username_len();
        if self.0.len() > max {
            return Err(invalid(format!(
                "a {platform} username has at most {max} characters"
            )));
        }
        Ok(())
    }

    /// The normalized name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trim, strip one leading `@`, lower-case; reject empty names and inner whitespace.
fn normalize(raw: &str) -> Result<String> {
    let invalid = |reason: &str| CoreError::InvalidUsername {
        input: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_prefix('@').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    if trimmed.chars().any(char::is_whitespace) {
        return Err(invalid("it contains whitespace"));
    }
    Ok(trimmed.to_lowercase())
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Username {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for Username {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> Self {
        u.0
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A creator's identity: platform and username, the `(platform, username)` key of `kols`.
///
/// Invariant: the username satisfies the platform's rules.
/// Displays as `platform:@username`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawHandle")]
pub struct Handle {
    platform: Platform,
    username: Username,
}

#[derive(Deserialize)]
struct RawHandle {
    platform: Platform,
    username: String,
}

impl TryFrom<RawHandle> for Handle {
    type Error = CoreError;

    fn try_from(raw: RawHandle) -> Result<Self> {
        Self::new(raw.platform, &raw.username)
    }
}

impl Handle {
    /// Normalizes and validates `username` for `platform`.
    ///
    /// # Errors
    /// As [`Username::for_platform`].
    pub fn new(platform: Platform, username: &str) -> Result<Self> {
        Ok(Self {
            platform,
            username: Username::for_platform(platform, username)?,
        })
    }

    /// Checks that an already normalized username fits `platform`.
    ///
    /// # Errors
    /// As [`Username::for_platform`].
    pub fn from_parts(platform: Platform, username: Username) -> Result<Self> {
        username.check_platform(platform, username.as_str())?;
        Ok(Self { platform, username })
    }

    /// Reads a profile URL: `https://www.tiktok.com/@Porji?lang=th` is `tiktok` / `porji`.
    ///
    /// Accepted: TikTok, YouTube, Threads and Lemon8 `/@name` links; Instagram, Facebook, X and
    /// Twitch `/name` links (not posts, reels or other pages). The scheme may be omitted; query
    /// strings and fragments are ignored.
    ///
    /// # Errors
    /// [`CoreError::InvalidProfileUrl`] for anything that is not a profile link of a supported
    /// platform, or whose username is invalid.
    pub fn from_profile_url(input: &str) -> Result<Self> {
        let invalid = |reason: String| CoreError::InvalidProfileUrl {
            input: input.to_owned(),
            reason,
        };
        let trimmed = input.trim();
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else {
            format!("https://{trimmed}")
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(
                "only http and https links are profile links".to_owned(),
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| invalid("it has no host".to_owned()))?;
        let platform = Platform::from_host(host)
            .ok_or_else(|| invalid(format!("{host} is not a supported platform")))?;
        let first = url
            .path_segments()
            .and_then(|mut segments| segments.find(|s| !s.is_empty()))
            .ok_or_else(|| invalid("it has no username in its path".to_owned()))?;
        let first = percent_decode(first);
        let name = match platform {
            Platform::Tiktok | Platform::Youtube | Platform::Threads | Platform::Lemon8 => first
                .strip_prefix('@')
                .ok_or_else(|| invalid(format!("a {platform} profile path starts with '@'")))?,
            Platform::Instagram | Platform::Facebook | Platform::X | Platform::Twitch => {
                if platform
                    .reserved_paths()
                    .contains(&first.to_ascii_lowercase().as_str())
                {
                    return Err(invalid(format!("/{first} is not a {platform} profile")));
                }
                first.as_str()
            }
        };
        Self::new(platform, name).map_err(|e| invalid(e.to_string()))
    }

    /// The platform.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The normalized username.
    pub fn username(&self) -> &Username {
        &self.username
    }

    /// The public profile URL of the handle.
    pub fn profile_url(&self) -> String {
        let u = &self.username;
        match self.platform {
            Platform::Tiktok => format!("https://www.tiktok.com/@{u}"),
            Platform::Instagram => format!("https://www.instagram.com/{u}"),
            Platform::Youtube => format!("https://www.youtube.com/@{u}"),
            Platform::Facebook => format!("https://www.facebook.com/{u}"),
            Platform::X => format!("https://x.com/{u}"),
            Platform::Threads => format!("https://www.threads.net/@{u}"),
            Platform::Twitch => format!("https://www.twitch.tv/{u}"),
            Platform::Lemon8 => format!("https://www.lemon8-app.com/@{u}"),
        }
    }
}

/// Decodes `%XX` escapes (a username never needs them, but links from spreadsheets have them).
fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(segment.as_bytes())
        .next()
        .map(|(k, v)| {
            if v.is_empty() {
                k.into_owned()
            } else {
                format!("{k}={v}")
            }
        })
        .unwrap_or_default()
}

impl std::fmt::Display for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:@{}", self.platform, self.username)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalized() {
        assert_eq!(Username::new("  @Porji ").unwrap().as_str(), "porji");
        assert_eq!(Username::new("KOL_1").unwrap().as_str(), "kol_1");
        assert!(Username::new("@").is_err());
        assert!(Username::new("   ").is_err());
        assert!(Username::new("two words").is_err());
        assert!(Username::new("@@double").is_err());
        assert!(Username::new("émilie").is_err());
        assert!(Username::new("a/b").is_err());
    }

    #[test]
    fn platform_rules_apply() {
        assert!(Handle::new(Platform::X, "has.dot").is_err());
        assert!(Handle::new(Platform::Instagram, "has.dot").is_ok());
        assert!(Handle::new(Platform::Tiktok, "has-dash").is_err());
        assert!(Handle::new(Platform::Youtube, "has-dash").is_ok());
        assert!(Handle::new(Platform::X, "sixteen_chars_xx").is_err());
        assert!(Handle::new(Platform::X, "fifteen_chars_x").is_ok());
        assert!(
            Handle::new(Platform::Instagram, "explore").is_err(),
            "a reserved page"
        );
        assert!(
            Handle::new(Platform::Facebook, "p").is_ok(),
            "reserved on Instagram only"
        );
    }

    #[test]
    fn profile_urls() {
        let check = |url: &str, platform: Platform, name: &str| {
            let h = Handle::from_profile_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (h.platform(), h.username().as_str()),
                (platform, name),
                "{url}"
            );
        };
        check(
            "https://www.tiktok.com/@Porji?lang=th",
            Platform::Tiktok,
            "porji",
        );
        check("tiktok.com/@kol_1/", Platform::Tiktok, "kol_1");
        check(
            "https://www.instagram.com/Some.Body/",
            Platform::Instagram,
            "some.body",
        );
        check("http://twitter.com/Jack#top", Platform::X, "jack");
        check(
            "https://www.youtube.com/@Cook-Thai",
            Platform::Youtube,
            "cook-thai",
        );
        check(
            "https://m.facebook.com/thai.food.page",
            Platform::Facebook,
            "thai.food.page",
        );
        check(
            "https://www.threads.net/@somebody",
            Platform::Threads,
            "somebody",
        );
        for bad in [
            "https://www.tiktok.com/porji",
            "https://www.instagram.com/p/CxYz/",
            "https://example.com/@someone",
            "ftp://tiktok.com/@a",
            "https://www.tiktok.com/",
            "not a url at all",
        ] {
            assert!(
                matches!(
                    Handle::from_profile_url(bad),
                    Err(CoreError::InvalidProfileUrl { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn url_round_trip() {
        let h = Handle::new(Platform::Tiktok, "@Porji").unwrap();
        assert_eq!(Handle::from_profile_url(&h.profile_url()).unwrap(), h);
        assert_eq!(h.to_string(), "tiktok:@porji");
    }

    #[test]
    fn serde_checks_the_platform_rules() {
        let ok: Handle =
            serde_json::from_str(r#"{"platform":"TikTok","username":"@Porji"}"#).unwrap();
        assert_eq!(ok.username().as_str(), "porji");
        assert!(serde_json::from_str::<Handle>(r#"{"platform":"x","username":"a.b"}"#).is_err());
    }
}
