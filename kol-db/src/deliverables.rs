//! Deliverables and what their posts achieved: status moves, posting (on the creator's own
//! platform), and append-only metric snapshots.
//!
//! Deliverables are created by an agreement ([`Database::agree`]); each delivers an item of the
//! creator's plan entry in the campaign. Snapshots are recorded only for posted deliverables,
//! captured no earlier than the post; the same capture sent twice is stored once.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use kol_core::{
    Campaign, CampaignId, ConversationId, Count, Deliverable, DeliverableId, DeliverableItem,
    DeliverableParts, DeliverableStatus, KolId, NewDeliverable, NewSnapshot, Platform, Post,
    PostMetrics, PostUrl, Snapshot, SnapshotId,
};

use crate::database::{Database, read_snapshot};
use crate::error::{DbError, Result};
use crate::schema::{campaign_plan_items, deliverables, kols, post_snapshots};
use crate::stored::StoredTime;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = deliverables, check_for_backend(diesel::pg::Pg))]
struct DeliverableRow {
    id: i64,
    campaign_id: i64,
    kol_id: i64,
    conversation_id: i64,
    item: String,
    due_on: NaiveDate,
    status: String,
    post_url: Option<String>,
    posted_at: Option<StoredTime>,
}

impl DeliverableRow {
    fn into_deliverable(self, platform: Platform) -> Result<Deliverable> {
        let id = self.id;
        (|| {
            let post = match (self.post_url, self.posted_at) {
                (Some(url), Some(at)) => Some(Post {
                    url: PostUrl::new(platform, &url)?,
                    posted_at: at.get("posted_at")?,
                }),
                _ => None,
            };
            Deliverable::from_parts(DeliverableParts {
                id: DeliverableId(self.id),
                campaign_id: CampaignId(self.campaign_id),
                kol_id: KolId(self.kol_id),
                conversation_id: ConversationId(self.conversation_id),
                item: DeliverableItem::new(&self.item)?,
                due_on: self.due_on,
                status: self.status.parse()?,
                post,
            })
        })()
        .map_err(DbError::stored("deliverables", id))
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = post_snapshots, check_for_backend(diesel::pg::Pg))]
struct SnapshotRow {
    id: i64,
    deliverable_id: i64,
    captured_at: StoredTime,
    views: i64,
    likes: i64,
    comments: i64,
    shares: i64,
    saves: i64,
    reach: Option<i64>,
    recorded_at: StoredTime,
}

impl SnapshotRow {
    fn into_snapshot(self) -> Result<Snapshot> {
        let id = self.id;
        (|| {
            let metrics = PostMetrics {
                views: Count::for_field("views", self.views)?,
                likes: Count::for_field("likes", self.likes)?,
                comments: Count::for_field("comments", self.comments)?,
                shares: Count::for_field("shares", self.shares)?,
                saves: Count::for_field("saves", self.saves)?,
                reach: self
                    .reach
                    .map(|r| Count::for_field("reach", r))
                    .transpose()?,
            };
            Ok(Snapshot {
                id: SnapshotId(self.id),
                deliverable_id: DeliverableId(self.deliverable_id),
                recorded_at: self.recorded_at.get("recorded_at")?,
                snapshot: NewSnapshot::new(self.captured_at.get("captured_at")?, metrics)?,
            })
        })()
        .map_err(DbError::stored("post_snapshots", id))
    }
}

/// What [`Database::record_snapshot`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotRecorded {
    /// The stored snapshot.
    pub snapshot: Snapshot,
    /// `false` when the same capture (same time, same counts) was already stored: sending a
    /// snapshot twice stores it once.
    pub new: bool,
}

/// The deliverables of an agreement: `requested`, or by default one of the creator's planned
/// item due on the campaign's last day (none without a plan entry). Each must deliver the
/// creator's planned item.
pub(crate) async fn insert_deliverables(
    conn: &mut AsyncPgConnection,
    campaign: &Campaign,
    kol: KolId,
    conversation: ConversationId,
    requested: Option<&[NewDeliverable]>,
) -> Result<Vec<Deliverable>> {
    let planned: Option<String> = campaign_plan_items::table
        .find((campaign.id.get(), kol.get()))
        .select(campaign_plan_items::item)
        .first(conn)
        .await
        .optional()?;
    let wanted: Vec<NewDeliverable> = match (requested, planned.as_deref()) {
        (Some(list), _) => list.to_vec(),
        (None, Some(item)) => vec![NewDeliverable {
            item: DeliverableItem::new(item)
                .map_err(DbError::stored("campaigns", campaign.id.get()))?,
            due_on: campaign.details.period.ends_on(),
        }],
        (None, None) => Vec::new(),
    };
    if let Some(bad) = wanted
        .iter()
        .find(|d| planned.as_deref() != Some(d.item.as_str()))
    {
        return Err(DbError::NotPlanned {
            campaign_id: campaign.id,
            kol_id: kol,
            item: bad.item.clone(),
        });
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let platform = kol_platform(conn, kol).await?;
    let values: Vec<_> = wanted
        .iter()
        .map(|d| {
            (
                deliverables::campaign_id.eq(campaign.id.get()),
                deliverables::kol_id.eq(kol.get()),
                deliverables::conversation_id.eq(conversation.get()),
                deliverables::item.eq(d.item.as_str()),
                deliverables::due_on.eq(d.due_on),
            )
        })
        .collect();
    let rows: Vec<DeliverableRow> = diesel::insert_into(deliverables::table)
        .values(values)
        .returning(DeliverableRow::as_returning())
        .get_results(conn)
        .await?;
    rows.into_iter()
        .map(|r| r.into_deliverable(platform))
        .collect()
}

async fn kol_platform(conn: &mut AsyncPgConnection, kol: KolId) -> Result<Platform> {
    let platform: Option<String> = kols::table
        .find(kol.get())
        .select(kols::platform)
        .first(conn)
        .await
        .optional()?;
    platform
        .ok_or_else(|| DbError::not_found("kol", kol))?
        .parse()
        .map_err(DbError::stored("kols", kol.get()))
}

async fn load_deliverable(
    conn: &mut AsyncPgConnection,
    id: DeliverableId,
    lock: bool,
) -> Result<(Deliverable, Platform)> {
    if lock {
        deliverables::table
            .find(id.get())
            .select(deliverables::id)
            .for_no_key_update()
            .first::<i64>(conn)
            .await
            .optional()?;
    }
    let row: Option<(DeliverableRow, String)> = deliverables::table
        .find(id.get())
        .inner_join(kols::table.on(kols::id.eq(deliverables::kol_id)))
        .select((DeliverableRow::as_select(), kols::platform))
        .first(conn)
        .await
        .optional()?;
    let (row, platform) = row.ok_or_else(|| DbError::not_found("deliverable", id))?;
    let platform: Platform = platform
        .parse()
        .map_err(DbError::stored("kols", row.kol_id))?;
    Ok((row.into_deliverable(platform)?, platform))
}

async fn deliverables_in(
    conn: &mut AsyncPgConnection,
    campaign: CampaignId,
) -> Result<Vec<Deliverable>> {
    let rows: Vec<(DeliverableRow, String)> = deliverables::table
        .inner_join(kols::table.on(kols::id.eq(deliverables::kol_id)))
        .filter(deliverables::campaign_id.eq(campaign.get()))
        .select((DeliverableRow::as_select(), kols::platform))
        .order((deliverables::kol_id.asc(), deliverables::id.asc()))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(row, platform)| {
            let platform: Platform = platform
                .parse()
                .map_err(DbError::stored("kols", row.kol_id))?;
            row.into_deliverable(platform)
        })
        .collect()
}

async fn snapshots_in(conn: &mut AsyncPgConnection, campaign: CampaignId) -> Result<Vec<Snapshot>> {
    let rows: Vec<SnapshotRow> = post_snapshots::table
        .inner_join(deliverables::table)
        .filter(deliverables::campaign_id.eq(campaign.get()))
        .select(SnapshotRow::as_select())
        .order((post_snapshots::captured_at.asc(), post_snapshots::id.asc()))
        .load(conn)
        .await?;
    rows.into_iter().map(SnapshotRow::into_snapshot).collect()
}

impl Database {
    /// The deliverables of a campaign, by creator then id.
    ///
    /// # Errors
    /// Connection errors; [`DbError::InvalidStoredData`].
    #[tracing::instrument(level = "debug", skip_all, fields(campaign = %campaign), err(level = "debug"))]
    pub async fn deliverables(&self, campaign: CampaignId) -> Result<Vec<Deliverable>> {
        let mut conn = self.conn().await?;
        deliverables_in(&mut conn, campaign).await
    }

    /// One deliverable.
    ///
    /// # Errors
    /// [`DbError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn deliverable(&self, id: DeliverableId) -> Result<Deliverable> {
        let mut conn = self.conn().await?;
        Ok(load_deliverable(&mut conn, id, false).await?.0)
    }

    /// Moves a deliverable to `to` (any move but posting, which needs the post:
    /// [`Database::post_deliverable`]).
    ///
    /// # Errors
    /// [`DbError::InvalidInput`] with [`kol_core::CoreError::InvalidStatusChange`] for a move
    /// the state machine does not allow, or a move to `posted`; [`DbError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn set_deliverable_status(
        &self,
        id: DeliverableId,
        to: DeliverableStatus,
    ) -> Result<Deliverable> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            let (current, platform) = load_deliverable(conn, id, true).await?;
            if current.status() == to {
                return Ok(current);
            }
            current.check_move(to)?;
            if to == DeliverableStatus::Posted {
                return Err(DbError::argument(
                    "status",
                    "a deliverable is posted with its link: use post_deliverable",
                ));
            }
            let row: DeliverableRow = diesel::update(deliverables::table.find(id.get()))
                .set(deliverables::status.eq(to.as_str()))
                .returning(DeliverableRow::as_returning())
                .get_result(conn)
                .await?;
            row.into_deliverable(platform)
        })
        .await
    }

    /// Records a deliverable's post: its link, on the creator's own platform, and when it went
    /// up. The deliverable moves to `posted`.
    ///
    /// # Errors
    /// [`DbError::InvalidInput`] with [`kol_core::CoreError::InvalidPostUrl`] for a link that
    /// is not a link on the creator's platform, or [`kol_core::CoreError::InvalidStatusChange`]
    /// when the deliverable cannot be posted from its status; [`DbError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn post_deliverable(
        &self,
        id: DeliverableId,
        url: &str,
        posted_at: DateTime<Utc>,
    ) -> Result<Deliverable> {
        let posted_at = kol_core::check_timestamp("posted_at", posted_at)?;
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            let (current, platform) = load_deliverable(conn, id, true).await?;
            current.check_move(DeliverableStatus::Posted)?;
            let url = PostUrl::new(platform, url)?;
            let row: DeliverableRow = diesel::update(deliverables::table.find(id.get()))
                .set((
                    deliverables::status.eq(DeliverableStatus::Posted.as_str()),
                    deliverables::post_url.eq(url.as_str()),
                    deliverables::posted_at.eq(posted_at),
                ))
                .returning(DeliverableRow::as_returning())
                .get_result(conn)
                .await?;
            row.into_deliverable(platform)
        })
        .await
    }

    /// Records a metric snapshot of a posted deliverable. Snapshots may come late and out of
    /// order; the same capture sent twice is stored once (`new: false`).
    ///
    /// # Errors
    /// [`DbError::SnapshotRefused`] when the deliverable is not posted, the capture is older
    /// than the post, or a snapshot with the same capture time holds other counts;
    /// [`DbError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn record_snapshot(
        &self,
        deliverable: DeliverableId,
        snapshot: &NewSnapshot,
    ) -> Result<SnapshotRecorded> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            let (current, _) = load_deliverable(conn, deliverable, false).await?;
            let refused = |reason: String| DbError::SnapshotRefused {
                deliverable_id: deliverable,
                reason,
            };
            let Some(post) = current.post() else {
                return Err(refused(format!(
                    "it is {}, and only posts have metrics",
                    current.status()
                )));
            };
            if snapshot.captured_at() < post.posted_at {
                return Err(refused(format!(
                    "captured at {}, before the post went up at {}",
                    snapshot.captured_at(),
                    post.posted_at
                )));
            }
            let m = snapshot.metrics();
            let inserted: Option<SnapshotRow> = diesel::insert_into(post_snapshots::table)
                .values((
                    post_snapshots::deliverable_id.eq(deliverable.get()),
                    post_snapshots::captured_at.eq(snapshot.captured_at()),
                    post_snapshots::views.eq(m.views.to_i64()),
                    post_snapshots::likes.eq(m.likes.to_i64()),
                    post_snapshots::comments.eq(m.comments.to_i64()),
                    post_snapshots::shares.eq(m.shares.to_i64()),
                    post_snapshots::saves.eq(m.saves.to_i64()),
                    post_snapshots::reach.eq(m.reach.map(Count::to_i64)),
                ))
                .on_conflict_do_nothing()
                .returning(SnapshotRow::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            if let Some(row) = inserted {
                return Ok(SnapshotRecorded {
                    snapshot: row.into_snapshot()?,
                    new: true,
                });
            }
            let existing: SnapshotRow = post_snapshots::table
                .filter(post_snapshots::deliverable_id.eq(deliverable.get()))
                .filter(post_snapshots::captured_at.eq(snapshot.captured_at()))
                .select(SnapshotRow::as_select())
                .first(conn)
                .await?;
            let existing = existing.into_snapshot()?;
            if existing.snapshot.metrics() != snapshot.metrics() {
                return Err(refused(format!(
                    "a snapshot captured at {} with other counts is already stored ({})",
                    snapshot.captured_at(),
                    existing.id
                )));
            }
            Ok(SnapshotRecorded {
                snapshot: existing,
                new: false,
            })
        })
        .await
    }

    /// The snapshots of every post of a campaign, by capture time then id.
    ///
    /// # Errors
    /// Connection errors; [`DbError::InvalidStoredData`].
    #[tracing::instrument(level = "debug", skip_all, fields(campaign = %campaign), err(level = "debug"))]
    pub async fn campaign_snapshots(&self, campaign: CampaignId) -> Result<Vec<Snapshot>> {
        let mut conn = self.conn().await?;
        snapshots_in(&mut conn, campaign).await
    }
}

impl Database {
    /// Plan versus actual for a campaign as of `as_of`: its plan, creators, deliverables and
    /// snapshots read in one snapshot of the database (a repeatable-read, read-only
    /// transaction), then [`kol_core::CampaignReport::build`].
    ///
    /// # Errors
    /// [`DbError::NotFound`] for an unknown campaign; [`DbError::InvalidStoredData`].
    #[tracing::instrument(level = "debug", skip_all, fields(campaign = %campaign), err(level = "debug"))]
    pub async fn campaign_report(
        &self,
        campaign: CampaignId,
        as_of: DateTime<Utc>,
    ) -> Result<kol_core::CampaignReport> {
        let (found, plan, creators, deliverables, snapshots) = crate::replicas::on_replica!(
            self,
            "campaign_report",
            async |conn: &mut AsyncPgConnection| {
                read_snapshot!(conn, async |conn| {
                    let found = crate::campaigns::load_campaign(conn, campaign, false)
                        .await?
                        .into_campaign()?;
                    let plan = crate::campaigns::plan_in(conn, campaign).await?;
                    let creators = crate::campaigns::kols_in(conn, campaign).await?;
                    let deliverables = deliverables_in(conn, campaign).await?;
                    let snapshots = snapshots_in(conn, campaign).await?;
                    Ok((found, plan, creators, deliverables, snapshots))
                })
            }
        )?;
        Ok(kol_core::CampaignReport::build(&kol_core::ReportInput {
            campaign: &found,
            plan: plan.as_ref(),
            creators: &creators,
            deliverables: &deliverables,
            snapshots: &snapshots,
            as_of,
        }))
    }
}
