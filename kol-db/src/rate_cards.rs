//! Rate cards (`rate_cards`): what creators sell, at what price, reaching how many people.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use kol_core::{KolId, NewRateCard, RateCard};

use crate::database::Database;
use crate::error::{DbError, Result};
use crate::models::{RateCardRow, RateCardValues};
use crate::schema::rate_cards;

impl Database {
    /// Stores a rate-card item, or updates the creator's item of the same name (price, reach).
    ///
    /// # Errors
    /// [`DbError::NotFound`] when the creator does not exist; [`DbError::RuleViolation`] when a
    /// rule of the table refuses the row.
    #[tracing::instrument(level = "debug", skip_all, fields(kol_id = %kol_id), err(level = "debug"))]
    pub async fn upsert_rate_card(&self, kol_id: KolId, card: &NewRateCard) -> Result<RateCard> {
        let mut conn = self.conn().await?;
        let values = RateCardValues::new(kol_id, card);
        let row: RateCardRow = diesel::insert_into(rate_cards::table)
            .values(&values)
            .on_conflict((rate_cards::kol_id, rate_cards::item))
            .do_update()
            .set(&values)
            .returning(RateCardRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(|e| DbError::missing_kol("rate_cards_kol_id_fkey", kol_id)(e.into()))?;
        row.into_rate_card()
    }

    /// The rate card of one creator, by item name.
    ///
    /// # Errors
    /// Connection errors; [`DbError::InvalidStoredData`](crate::DbError::InvalidStoredData).
    #[tracing::instrument(level = "debug", skip_all, fields(kol_id = %kol_id), err(level = "debug"))]
    pub async fn rate_cards_of(&self, kol_id: KolId) -> Result<Vec<RateCard>> {
        Ok(self
            .rate_cards_for(&[kol_id])
            .await?
            .remove(&kol_id)
            .unwrap_or_default())
    }

    /// The rate cards of several creators, by creator, each by item name. Creators without a
    /// rate card are absent from the map.
    ///
    /// # Errors
    /// Connection errors; [`DbError::InvalidStoredData`](crate::DbError::InvalidStoredData).
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn rate_cards_for(
        &self,
        kol_ids: &[KolId],
    ) -> Result<BTreeMap<KolId, Vec<RateCard>>> {
        let mut out: BTreeMap<KolId, Vec<RateCard>> = BTreeMap::new();
        if kol_ids.is_empty() {
            return Ok(out);
        }
        let ids: Vec<i64> = kol_ids.iter().map(|id| id.get()).collect();
        let rows: Vec<RateCardRow> = crate::replicas::on_replica!(
            self,
            "rate_cards_for",
            async |conn: &mut diesel_async::AsyncPgConnection| {
                Ok(rate_cards::table
                    .filter(rate_cards::kol_id.eq_any(&ids))
                    .select(RateCardRow::as_select())
                    .order((rate_cards::kol_id.asc(), rate_cards::item.asc()))
                    .load(conn)
                    .await?)
            }
        )?;
        for row in rows {
            let card = row.into_rate_card()?;
            out.entry(card.kol_id).or_default().push(card);
        }
        Ok(out)
    }
}
