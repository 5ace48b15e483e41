//! Checked free text: trimmed, non-empty, bounded, and storable in a PostgreSQL `TEXT` column.

use crate::error::{CoreError, Result};

/// Trims `input` and checks it is non-empty, at most `max_chars` characters, and free of the NUL
/// character (which PostgreSQL `TEXT` cannot store).
pub(crate) fn clean(field: &'static str, input: &str, max_chars: usize) -> Result<String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(CoreError::InvalidText {
            field,
            reason: "it is empty".to_owned(),
        });
    }
    check_storable(field, trimmed, max_chars)?;
    Ok(trimmed.to_owned())
}

/// Like [`clean`], but an empty (or all-whitespace) input means "no value".
pub(crate) fn clean_optional(
    field: &'static str,
    input: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => clean(field, s, max_chars).map(Some),
    }
}

/// Checks length (in characters) and the absence of NUL, without trimming.
pub(crate) fn check_storable(field: &'static str, s: &str, max_chars: usize) -> Result<()> {
    if s.contains('\0') {
        return Err(CoreError::InvalidText {
            field,
            reason: "it contains a NUL character".to_owned(),
        });
    }
    let chars = s.chars().count();
    if chars > max_chars {
        return Err(CoreError::InvalidText {
            field,
            reason: format!("it has {chars} characters, the limit is {max_chars}"),
        });
    }
    Ok(())
}

/// A short free text: trimmed, non-empty, at most [`PlainText::MAX_CHARS`] characters, no NUL.
///
/// Used for display names, contact details and local file paths.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct PlainText(String);

impl PlainText {
    /// Longest accepted text.
    pub const MAX_CHARS: usize = 1_000;

    /// Trims and checks `input`.
    ///
    /// # Errors
    /// [`CoreError::InvalidText`] (naming the field `text`) when it is empty after trimming, too
    /// long or holds a NUL character.
    pub fn new(input: &str) -> Result<Self> {
        Self::for_field("text", input)
    }

    /// Like [`PlainText::new`], naming `field` in the error.
    ///
    /// # Errors
    /// As [`PlainText::new`].
    pub fn for_field(field: &'static str, input: &str) -> Result<Self> {
        clean(field, input, Self::MAX_CHARS).map(Self)
    }

    /// Like [`PlainText::for_field`], but an absent, empty or whitespace-only input is `None`.
    ///
    /// # Errors
    /// As [`PlainText::new`] for a non-empty input that is too long or holds a NUL.
    pub fn optional(field: &'static str, input: Option<&str>) -> Result<Option<Self>> {
        Ok(clean_optional(field, input, Self::MAX_CHARS)?.map(Self))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PlainText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for PlainText {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for PlainText {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<PlainText> for String {
    fn from(t: PlainText) -> Self {
        t.0
    }
}

impl AsRef<str> for PlainText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
