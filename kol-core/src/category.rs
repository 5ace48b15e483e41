//! Content categories of a creator (`beauty`, `skincare`, `food`...), as a normalized tag set.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// One category tag.
///
/// Invariant: lower-case, trimmed, inner whitespace collapsed to single spaces, 1 to
/// [`Category::MAX_CHARS`] characters, no control character, and none of the characters that
/// would break a PostgreSQL array literal or a CSV cell (`,`, `{`, `}`, `"`, `\`). Any script
/// is accepted, combining marks included, so Thai tags such as `เครื่องสำอาง` work.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

impl Category {
    /// Longest accepted tag.
    pub const MAX_CHARS: usize = 64;

    /// Normalizes and validates a tag.
    ///
    /// # Errors
    /// [`CoreError::InvalidCategory`] for an empty or over-long tag or one with other characters.
    pub fn new(raw: &str) -> Result<Self> {
        let err = |reason| CoreError::InvalidCategory {
            input: raw.to_owned(),
            reason,
        };
        let tag = raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if tag.is_empty() {
            return Err(err("it is empty"));
        }
        if tag.chars().count() > Self::MAX_CHARS {
            return Err(err("it is longer than 64 characters"));
        }
        let refused = |c: char| c.is_control() || matches!(c, ',' | '{' | '}' | '"' | '\\');
        if tag.chars().any(refused) {
            return Err(err(
                "',', '{', '}', '\"', '\\' and control characters are not allowed",
            ));
        }
        Ok(Self(tag))
    }

    /// The normalized tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Category {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<String> for Category {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self> {
        Self::new(&s)
    }
}

impl From<Category> for String {
    fn from(c: Category) -> Self {
        c.0
    }
}

/// A creator's categories: a sorted set of distinct [`Category`] tags (possibly empty).
///
/// Serializes as a JSON array of strings, sorted; duplicates (after normalization) collapse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Categories(BTreeSet<Category>);

impl Categories {
    /// No categories.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses every tag.
    ///
    /// # Errors
    /// The first [`CoreError::InvalidCategory`].
    pub fn parse<I, S>(tags: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        tags.into_iter()
            .map(|t| Category::new(t.as_ref()))
            .collect()
    }

    /// Adds a tag; returns whether it was new.
    pub fn insert(&mut self, category: Category) -> bool {
        self.0.insert(category)
    }

    /// Whether the set holds `category`.
    pub fn contains(&self, category: &Category) -> bool {
        self.0.contains(category)
    }

    /// Whether the two sets share a tag (the "any-of" category filter).
    pub fn intersects(&self, other: &Self) -> bool {
        self.0.intersection(&other.0).next().is_some()
    }

    /// The tags, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &Category> {
        self.0.iter()
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tags as strings, sorted (what the `TEXT[]` column stores).
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|c| c.0.clone()).collect()
    }
}

impl FromIterator<Category> for Categories {
    fn from_iter<T: IntoIterator<Item = Category>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Categories {
    type Item = &'a Category;
    type IntoIter = std::collections::btree_set::Iter<'a, Category>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalized() {
        assert_eq!(Category::new("  Beauty ").unwrap().as_str(), "beauty");
        assert_eq!(
            Category::new("Home   Decor").unwrap().as_str(),
            "home decor"
        );
        assert_eq!(Category::new("ความงาม").unwrap().as_str(), "ความงาม");
        for thai in ["เครื่องสำอาง", "ท่องเที่ยว", "แฟชั่น", "อาหาร & เครื่องดื่ม"]
        {
            assert_eq!(Category::new(thai).unwrap().as_str(), thai);
        }
        for bad in [
            "",
            "  ",
            "a,b",
            "{x}",
            "q\"",
            "back\\slash",
            &"x".repeat(65),
        ] {
            assert!(Category::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sets_dedupe_and_sort() {
        let c = Categories::parse(["Skincare", "beauty", "SKINCARE "]).unwrap();
        assert_eq!(c.to_strings(), ["beauty", "skincare"]);
        assert!(c.intersects(&Categories::parse(["beauty"]).unwrap()));
        assert!(!c.intersects(&Categories::parse(["food"]).unwrap()));
        assert!(serde_json::from_str::<Categories>(r#"["ok", "bad,tag"]"#).is_err());
    }
}
