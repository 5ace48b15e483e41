//! Social platforms a creator publishes on.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// A social platform.
///
/// Parsing is case-insensitive and accepts common aliases (`twitter` for [`Platform::X`], `ig`,
/// `yt`, `fb`); an unknown name is an error, never a silent string. Stored and serialized as the
/// lower-case name of [`Platform::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Platform {
    /// TikTok.
    Tiktok,
    /// Instagram.
    Instagram,
    /// YouTube (channel handles, `@name`).
    Youtube,
    /// Facebook (pages and profiles).
    Facebook,
    /// X, formerly Twitter.
    X,
    /// Threads.
    Threads,
    /// Twitch.
    Twitch,
    /// Lemon8, popular with Thai lifestyle creators.
    Lemon8,
}

/// The names [`Platform`] accepts, for error messages.
const EXPECTED: &str = "tiktok, instagram, youtube, facebook, x (twitter), threads, twitch, lemon8";

impl Platform {
    /// Every platform.
    pub const ALL: [Self; 8] = [
        Self::Tiktok,
        Self::Instagram,
        Self::Youtube,
        Self::Facebook,
        Self::X,
        Self::Threads,
        Self::Twitch,
        Self::Lemon8,
    ];

    /// The stored, lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tiktok => "tiktok",
            Self::Instagram => "instagram",
            Self::Youtube => "youtube",
            Self::Facebook => "facebook",
            Self::X => "x",
            Self::Threads => "threads",
            Self::Twitch => "twitch",
            Self::Lemon8 => "lemon8",
        }
    }

    /// Longest username the platform allows.
    pub const fn max_username_len(self) -> usize {
        match self {
            Self::Tiktok => 24,
            Self::Instagram | Self::Threads => 30,
            Self::Youtube => 30,
            Self::Facebook => 50,
            Self::X => 15,
            Self::Twitch => 25,
            Self::Lemon8 => 30,
        }
    }

    /// Whether `c` (already lower-cased) may appear in a username on this platform.
    pub const fn allows_username_char(self, c: char) -> bool {
        let alnum = c.is_ascii_lowercase() || c.is_ascii_digit();
        match self {
            Self::Tiktok | Self::Instagram | Self::Threads | Self::Lemon8 => {
                alnum || c == '_' || c == '.'
            }
            Self::Youtube => alnum || c == '_' || c == '.' || c == '-',
            Self::Facebook => alnum || c == '.',
            Self::X | Self::Twitch => alnum || c == '_',
        }
    }

    /// First path segments of the platform's web site that are pages, not profiles: no creator
    /// can have them as a username there.
    pub const fn reserved_paths(self) -> &'static [&'static str] {
        match self {
            Self::Instagram | Self::Threads => &[
                "p",
                "reel",
                "reels",
                "stories",
                "explore",
                "tv",
                "accounts",
                "direct",
                "about",
                "legal",
                "developer",
            ],
            Self::Facebook => &[
                "profile.php",
                "pages",
                "groups",
                "events",
                "watch",
                "marketplace",
                "gaming",
                "share",
                "hashtag",
                "photo",
                "photo.php",
                "login",
                "settings",
                "help",
                "messages",
                "notifications",
            ],
            Self::X => &[
                "i",
                "home",
                "search",
                "intent",
                "hashtag",
                "explore",
                "settings",
                "messages",
                "notifications",
                "share",
                "login",
                "logout",
                "signup",
                "tos",
                "privacy",
            ],
            Self::Twitch => &[
                "directory",
                "settings",
                "search",
                "login",
                "signup",
                "downloads",
                "p",
                "jobs",
            ],
            Self::Youtube => &[
                "watch", "channel", "c", "user", "shorts", "results", "feed", "playlist",
            ],
            Self::Tiktok => &[
                "discover",
                "explore",
                "foryou",
                "following",
                "live",
                "tag",
                "music",
            ],
            Self::Lemon8 => &["discover", "explore"],
        }
    }

    /// The platform whose web site is `host` (`www.tiktok.com`, `m.facebook.com`, `x.com`...).
    pub fn from_host(host: &str) -> Option<Self> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let host = host
            .strip_prefix("www.")
            .or_else(|| host.strip_prefix("m."))
            .unwrap_or(&host);
        match host {
            "tiktok.com" | "vm.tiktok.com" => Some(Self::Tiktok),
            "instagram.com" => Some(Self::Instagram),
            "youtube.com" => Some(Self::Youtube),
            "facebook.com" | "fb.com" => Some(Self::Facebook),
            "x.com" | "twitter.com" | "mobile.twitter.com" => Some(Self::X),
            "threads.net" | "threads.com" => Some(Self::Threads),
            "twitch.tv" => Some(Self::Twitch),
            "lemon8-app.com" => Some(Self::Lemon8),
            _ => None,
        }
    }
}

impl Platform {
    /// The platform whose posts live on `host`: its web site ([`Platform::from_host`]) or one
    /// of its short-link hosts (`youtu.be`, `vt.tiktok.com`, `fb.watch`).
    pub fn from_post_host(host: &str) -> Option<Self> {
        let bare = host.trim_end_matches('.').to_ascii_lowercase();
        match bare.strip_prefix("www.").unwrap_or(&bare) {
            "youtu.be" => Some(Self::Youtube),
            "vt.tiktok.com" => Some(Self::Tiktok),
            "fb.watch" => Some(Self::Facebook),
            _ => Self::from_host(host),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Platform {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        let name = s.trim().to_ascii_lowercase();
        let platform = match name.as_str() {
            "tiktok" | "tik tok" | "tt" => Self::Tiktok,
            "instagram" | "ig" | "insta" => Self::Instagram,
            "youtube" | "yt" => Self::Youtube,
            "facebook" | "fb" => Self::Facebook,
            "x" | "twitter" => Self::X,
            "threads" => Self::Threads,
            "twitch" => Self::Twitch,
            "lemon8" => Self::Lemon8,
            _ => {
                return Err(CoreError::UnknownPlatform {
                    input: s.to_owned(),
                    expected: EXPECTED,
                });
            }
        };
        Ok(platform)
    }
}

impl TryFrom<String> for Platform {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Platform> for &'static str {
    fn from(p: Platform) -> Self {
        p.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_aliases_case_insensitively() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>().unwrap(), p);
            assert_eq!(p.as_str().to_uppercase().parse::<Platform>().unwrap(), p);
        }
        assert_eq!("Twitter".parse::<Platform>().unwrap(), Platform::X);
        assert_eq!(" TikTok ".parse::<Platform>().unwrap(), Platform::Tiktok);
        assert!(matches!(
            "myspace".parse::<Platform>(),
            Err(CoreError::UnknownPlatform { .. })
        ));
    }

    #[test]
    fn hosts() {
        assert_eq!(
            Platform::from_host("www.tiktok.com"),
            Some(Platform::Tiktok)
        );
        assert_eq!(
            Platform::from_host("m.facebook.com"),
            Some(Platform::Facebook)
        );
        assert_eq!(Platform::from_host("twitter.com"), Some(Platform::X));
        assert_eq!(Platform::from_host("example.com"), None);
    }
}
