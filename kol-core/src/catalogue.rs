//! A creator with everything the platform knows about it: the unit of catalogue imports and of
//! in-memory catalogues.

use serde::{Deserialize, Serialize};

use crate::kol::NewKol;
use crate::media::NewKolMedia;
use crate::rate_card::NewRateCard;

/// One creator of a catalogue, with its pictures and its rate card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueEntry {
    /// The creator.
    pub kol: NewKol,
    /// Its pictures (with embeddings, usually).
    #[serde(default)]
    pub media: Vec<NewKolMedia>,
    /// Its rate-card items (distinct item names).
    #[serde(default)]
    pub rate_cards: Vec<NewRateCard>,
}
