//! Pictures of creators with their CLIP embeddings (`kol_media`).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use kol_core::{Embedding, KolId, KolMedia, MediaId, NewKolMedia};

use crate::database::Database;
use crate::error::{DbError, Result};
use crate::models::{MediaRow, MediaValues};
use crate::schema::kol_media;

impl Database {
    /// Stores a picture of a creator.
    ///
    /// # Errors
    /// [`DbError::NotFound`] when the creator does not exist; [`DbError::RuleViolation`] when a
    /// rule of the table refuses the row.
    #[tracing::instrument(level = "debug", skip_all, fields(kol_id = %kol_id), err(level = "debug"))]
    pub async fn add_media(&self, kol_id: KolId, media: &NewKolMedia) -> Result<KolMedia> {
        let mut conn = self.conn().await?;
        let row: MediaRow = diesel::insert_into(kol_media::table)
            .values(MediaValues::new(kol_id, media))
            .returning(MediaRow::as_returning())
            .get_result(&mut conn)
            .await
            .map_err(|e| DbError::missing_kol("kol_media_kol_id_fkey", kol_id)(e.into()))?;
        row.into_media()
    }

    /// The pictures of a creator, in id order.
    ///
    /// # Errors
    /// Connection errors; [`DbError::InvalidStoredData`].
    #[tracing::instrument(level = "debug", skip_all, fields(kol_id = %kol_id), err(level = "debug"))]
    pub async fn media_of(&self, kol_id: KolId) -> Result<Vec<KolMedia>> {
        let rows: Vec<MediaRow> = crate::replicas::on_replica!(
            self,
            "media_of",
            async |conn: &mut diesel_async::AsyncPgConnection| {
                Ok(kol_media::table
                    .filter(kol_media::kol_id.eq(kol_id.get()))
                    .select(MediaRow::as_select())
                    .order(kol_media::id.asc())
                    .load(conn)
                    .await?)
            }
        )?;
        rows.into_iter().map(MediaRow::into_media).collect()
    }

    /// Sets (or replaces) the embedding of a picture.
    ///
    /// # Errors
    /// [`DbError::NotFound`] when there is no such picture.
    #[tracing::instrument(level = "debug", skip_all, fields(media_id = %media_id), err(level = "debug"))]
    pub async fn set_embedding(&self, media_id: MediaId, embedding: &Embedding) -> Result<()> {
        let mut conn = self.conn().await?;
        let n = diesel::update(kol_media::table.find(media_id.get()))
            .set(kol_media::emb.eq(pgvector::Vector::from(embedding.as_slice().to_vec())))
            .execute(&mut conn)
            .await?;
        if n == 0 {
            Err(DbError::not_found("media", media_id))
        } else {
            Ok(())
        }
    }
}
