//! Diesel row structs and their conversions to and from kol-core types. Private to kol-db:
//! callers only ever see kol-core types.

use diesel::prelude::*;
use kol_core::{
    AudienceShare, Categories, CountryCode, DeliverableItem, Embedding, Extra, Followers, Handle,
    Kol, KolId, KolMedia, Link, MediaId, MediaKind, MediaLocation, NewKol, NewKolMedia,
    NewRateCard, PlainText, Platform, PriceThb, RateCard, RateCardId, Reach,
};

use crate::error::{DbError, Result};
use crate::schema::{kol_media, kols, rate_cards};
use crate::stored::{StoredJson, StoredTime};

#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = kols, check_for_backend(diesel::pg::Pg))]
pub(crate) struct KolRow {
    pub(crate) id: i64,
    pub(crate) platform: String,
    pub(crate) username: String,
    pub(crate) display_name: Option<String>,
    pub(crate) category: Vec<Option<String>>,
    pub(crate) followers: Option<i32>,
    pub(crate) country: Option<String>,
    pub(crate) contact: Option<String>,
    pub(crate) sample_links: Vec<Option<String>>,
    pub(crate) extra: StoredJson,
    pub(crate) audience_th_pct: Option<i32>,
    pub(crate) created_at: StoredTime,
}

impl KolRow {
    pub(crate) fn into_kol(self) -> Result<Kol> {
        let id = self.id;
        self.try_into_kol().map_err(DbError::stored("kols", id))
    }

    fn try_into_kol(self) -> kol_core::Result<Kol> {
        let platform: Platform = self.platform.parse()?;
        let profile = NewKol {
            handle: Handle::new(platform, &self.username)?,
            display_name: PlainText::optional("display_name", self.display_name.as_deref())?,
            categories: Categories::parse(self.category.iter().flatten())?,
            followers: self
                .followers
                .map(|f| Followers::new(f.into()))
                .transpose()?,
            country: self.country.as_deref().map(CountryCode::new).transpose()?,
            contact: PlainText::optional("contact", self.contact.as_deref())?,
            sample_links: self
                .sample_links
                .iter()
                .flatten()
                .map(|l| Link::new(l))
                .collect::<Result<_, _>>()?,
            extra: Extra::from_json(self.extra.get()?)?,
            audience_th_pct: self
                .audience_th_pct
                .map(|a| AudienceShare::new(a.into()))
                .transpose()?,
        };
        Ok(Kol {
            id: KolId(self.id),
            created_at: self.created_at.get("created_at")?,
            profile,
        })
    }
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = kols, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub(crate) struct KolValues<'a> {
    pub(crate) platform: &'a str,
    pub(crate) username: &'a str,
    pub(crate) display_name: Option<&'a str>,
    pub(crate) category: Vec<&'a str>,
    pub(crate) followers: Option<i32>,
    pub(crate) country: Option<&'a str>,
    pub(crate) contact: Option<&'a str>,
    pub(crate) sample_links: Vec<&'a str>,
    pub(crate) extra: serde_json::Value,
    pub(crate) audience_th_pct: Option<i32>,
}

impl<'a> KolValues<'a> {
    pub(crate) fn new(kol: &'a NewKol) -> Self {
        Self {
            platform: kol.handle.platform().as_str(),
            username: kol.handle.username().as_str(),
            display_name: kol.display_name.as_ref().map(PlainText::as_str),
            category: kol.categories.iter().map(|c| c.as_str()).collect(),
            followers: kol.followers.map(Followers::to_i32),
            country: kol.country.as_ref().map(CountryCode::as_str),
            contact: kol.contact.as_ref().map(PlainText::as_str),
            sample_links: kol.sample_links.iter().map(Link::as_str).collect(),
            extra: serde_json::Value::from(kol.extra.clone()),
            audience_th_pct: kol.audience_th_pct.map(|a| i32::from(a.percent())),
        }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = kol_media, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MediaRow {
    pub(crate) id: i64,
    pub(crate) kol_id: i64,
    pub(crate) kind: String,
    pub(crate) path: Option<String>,
    pub(crate) media_url: Option<String>,
    pub(crate) emb: Option<pgvector::Vector>,
}

impl MediaRow {
    pub(crate) fn into_media(self) -> Result<KolMedia> {
        let id = self.id;
        let kol_id = self.kol_id;
        self.try_into_media()
            .map(|media| KolMedia {
                id: MediaId(id),
                kol_id: KolId(kol_id),
                media,
            })
            .map_err(DbError::stored("kol_media", id))
    }

    fn try_into_media(self) -> kol_core::Result<NewKolMedia> {
        Ok(NewKolMedia {
            kind: self.kind.parse::<MediaKind>()?,
            location: MediaLocation::new(
                PlainText::optional("path", self.path.as_deref())?,
                self.media_url.as_deref().map(Link::new).transpose()?,
            )?,
            embedding: self.emb.map(|v| Embedding::new(v.to_vec())).transpose()?,
        })
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = kol_media, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MediaValues<'a> {
    pub(crate) kol_id: i64,
    pub(crate) kind: &'a str,
    pub(crate) path: Option<&'a str>,
    pub(crate) media_url: Option<&'a str>,
    pub(crate) emb: Option<pgvector::Vector>,
}

impl<'a> MediaValues<'a> {
    pub(crate) fn new(kol_id: KolId, media: &'a NewKolMedia) -> Self {
        Self {
            kol_id: kol_id.get(),
            kind: media.kind.as_str(),
            path: media.location.local_path().map(PlainText::as_str),
            media_url: media.location.media_url().map(Link::as_str),
            emb: media
                .embedding
                .as_ref()
                .map(|e| pgvector::Vector::from(e.as_slice().to_vec())),
        }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = rate_cards, check_for_backend(diesel::pg::Pg))]
pub(crate) struct RateCardRow {
    pub(crate) id: i64,
    pub(crate) kol_id: i64,
    pub(crate) item: String,
    pub(crate) price_integer: i32,
    pub(crate) est_reach: Option<i32>,
}

impl RateCardRow {
    pub(crate) fn into_rate_card(self) -> Result<RateCard> {
        let id = self.id;
        let card = (|| -> kol_core::Result<NewRateCard> {
            Ok(NewRateCard {
                item: DeliverableItem::new(&self.item)?,
                price: PriceThb::new(self.price_integer.into())?,
                est_reach: self.est_reach.map(|r| Reach::new(r.into())).transpose()?,
            })
        })()
        .map_err(DbError::stored("rate_cards", id))?;
        Ok(RateCard {
            id: RateCardId(id),
            kol_id: KolId(self.kol_id),
            card,
        })
    }
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = rate_cards, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub(crate) struct RateCardValues<'a> {
    pub(crate) kol_id: i64,
    pub(crate) item: &'a str,
    pub(crate) price_integer: i32,
    pub(crate) est_reach: Option<i32>,
}

impl<'a> RateCardValues<'a> {
    pub(crate) fn new(kol_id: KolId, card: &'a NewRateCard) -> Self {
        Self {
            kol_id: kol_id.get(),
            item: card.item.as_str(),
            price_integer: card.price.to_i32(),
            est_reach: card.est_reach.map(Reach::to_i32),
        }
    }
}
