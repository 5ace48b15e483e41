//! Pictures of creators (`kol_media` rows): profile images and thumbnails, with CLIP embeddings.

use serde::{Deserialize, Serialize};

use crate::conversation::string_enum_impls;
use crate::embedding::Embedding;
use crate::error::{CoreError, Result};
use crate::ids::{KolId, MediaId};
use crate::kol::Link;
use crate::text::PlainText;

/// What a picture is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum MediaKind {
    /// The creator's profile picture.
    Profile,
    /// A thumbnail of one of the creator's posts.
    Thumb,
}

impl MediaKind {
    /// Both kinds.
    pub const ALL: [Self; 2] = [Self::Profile, Self::Thumb];

    /// The stored name: `"profile"` or `"thumb"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Profile => "profile",
            Self::Thumb => "thumb",
        }
    }
}

string_enum_impls!(MediaKind, "media kind", "profile, thumb");

/// Where a picture is: a local file (development), a public URL (production), or both.
///
/// Invariant: at least one of the two is present.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawLocation")]
pub struct MediaLocation {
    path: Option<PlainText>,
    #[serde(rename = "media_url")]
    url: Option<Link>,
}

#[derive(Deserialize)]
struct RawLocation {
    #[serde(default)]
    path: Option<PlainText>,
    #[serde(default)]
    media_url: Option<Link>,
}

impl TryFrom<RawLocation> for MediaLocation {
    type Error = CoreError;

    fn try_from(raw: RawLocation) -> Result<Self> {
        Self::new(raw.path, raw.media_url)
    }
}

impl MediaLocation {
    /// A location from an optional path and an optional URL.
    ///
    /// # Errors
    /// [`CoreError::MissingMediaLocation`] when both are `None`.
    pub fn new(path: Option<PlainText>, url: Option<Link>) -> Result<Self> {
        if path.is_none() && url.is_none() {
            return Err(CoreError::MissingMediaLocation);
        }
        Ok(Self { path, url })
    }

    /// A local file only.
    pub fn path(path: PlainText) -> Self {
        Self {
            path: Some(path),
            url: None,
        }
    }

    /// A public URL only.
    pub fn url(url: Link) -> Self {
        Self {
            path: None,
            url: Some(url),
        }
    }

    /// The local path (`kol_media.path`).
    pub fn local_path(&self) -> Option<&PlainText> {
        self.path.as_ref()
    }

    /// The public URL (`kol_media.media_url`).
    pub fn media_url(&self) -> Option<&Link> {
        self.url.as_ref()
    }
}

/// A picture not yet stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewKolMedia {
    /// Profile picture or thumbnail.
    pub kind: MediaKind,
    /// Where the file is.
    #[serde(flatten)]
    pub location: MediaLocation,
    /// Its CLIP embedding, once computed.
    #[serde(default, rename = "emb")]
    pub embedding: Option<Embedding>,
}

/// A stored picture (`kol_media` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KolMedia {
    /// Row id.
    pub id: MediaId,
    /// The creator it shows.
    pub kol_id: KolId,
    /// Kind, location and embedding.
    #[serde(flatten)]
    pub media: NewKolMedia,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_needs_a_path_or_a_url() {
        assert_eq!(
            MediaLocation::new(None, None),
            Err(CoreError::MissingMediaLocation)
        );
        let p = PlainText::new("/data/split_images/porji/0.jpg").unwrap();
        assert!(MediaLocation::new(Some(p), None).is_ok());
        assert!(serde_json::from_str::<NewKolMedia>(r#"{"kind": "thumb"}"#).is_err());
        let m: NewKolMedia = serde_json::from_str(
            r#"{"kind": "Thumb", "media_url": "https://cdn.example.com/a.jpg"}"#,
        )
        .unwrap();
        assert_eq!(m.kind, MediaKind::Thumb);
        assert!(m.embedding.is_none());
    }
}
