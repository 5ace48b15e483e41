//! Campaigns: create them, move them through their statuses, save the plan they were given
//! (frozen once running), and manage the creators taking part.
//!
//! The database keeps every rule here itself (migration 8's triggers), so a second client
//! cannot break them either: statuses that move only forward, a plan that is fixed once the
//! campaign runs and never costs more than its budget, confirmations only while running, within
//! the budget unless explicitly approved, and exclusive of competing clients when a campaign
//! asks for it. The methods check the same rules first, inside the transaction that writes, to
//! answer with a precise error ([`DbError::OverBudget`], [`DbError::ExclusivityConflict`]...).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use kol_core::{
    BriefText, Campaign, CampaignId, CampaignKol, CampaignKolStatus, CampaignPeriod,
    CampaignStatus, CoreError, DeliverableItem, Embedding, KolId, NewCampaign, People, PlainText,
    PlanMode, PlanRecord, PlannedItem, PriceThb, Reach,
};

use crate::database::{Database, read_snapshot};
use crate::error::{DbError, Result};
use crate::schema::{campaign_kols, campaign_plan_items, campaign_plans, campaigns};
use crate::stored::StoredTime;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = campaigns, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CampaignRow {
    id: i64,
    name: String,
    client: String,
    brief: Option<String>,
    brief_emb: Option<pgvector::Vector>,
    budget_integer: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    status: String,
    exclusive: bool,
    created_at: StoredTime,
}

impl CampaignRow {
    pub(crate) fn into_campaign(self) -> Result<Campaign> {
        let id = self.id;
        (|| {
            Ok(Campaign {
                id: CampaignId(self.id),
                status: self.status.parse()?,
                created_at: self.created_at.get("created_at")?,
                details: NewCampaign {
                    name: PlainText::for_field("name", &self.name)?,
                    client: PlainText::for_field("client", &self.client)?,
                    brief: self.brief.as_deref().map(BriefText::new).transpose()?,
                    brief_embedding: self
                        .brief_emb
                        .map(|v| Embedding::new(v.to_vec()))
                        .transpose()?,
                    budget: PriceThb::new(self.budget_integer.into())?,
                    period: CampaignPeriod::new(self.starts_on, self.ends_on)?,
                    exclusive: self.exclusive,
                },
            })
        })()
        .map_err(DbError::stored("campaigns", id))
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = campaign_plans, check_for_backend(diesel::pg::Pg))]
struct PlanRow {
    campaign_id: i64,
    mode: String,
    budget_integer: i32,
    effective_reach: f64,
    upper_bound: f64,
    gap: f64,
    planned_at: StoredTime,
}

impl PlanRow {
    fn into_record(self, items: Vec<PlanItemRow>) -> Result<PlanRecord> {
        let id = self.campaign_id;
        (|| {
            self.planned_at.get("planned_at")?;
            let items = items
                .into_iter()
                .map(PlanItemRow::into_item)
                .collect::<kol_core::Result<_>>()?;
            PlanRecord::new(
                self.mode.parse::<PlanMode>()?,
                PriceThb::new(self.budget_integer.into())?,
                People::new(self.effective_reach)?,
                People::new(self.upper_bound)?,
                self.gap,
                items,
            )
        })()
        .map_err(DbError::stored("campaign_plans", id))
    }
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = campaign_plan_items, check_for_backend(diesel::pg::Pg))]
struct PlanItemRow {
    campaign_id: i64,
    kol_id: i64,
    item: String,
    price_integer: i32,
    est_reach: i32,
    reach_estimated: bool,
    effective_reach: f64,
}

impl PlanItemRow {
    fn new(campaign: CampaignId, item: &PlannedItem) -> Self {
        Self {
            campaign_id: campaign.get(),
            kol_id: item.kol_id.get(),
            item: item.item.as_str().to_owned(),
            price_integer: item.price.to_i32(),
            est_reach: item.est_reach.to_i32(),
            reach_estimated: item.reach_estimated,
            effective_reach: item.effective_reach.get(),
        }
    }

    fn into_item(self) -> kol_core::Result<PlannedItem> {
        Ok(PlannedItem {
            kol_id: KolId(self.kol_id),
            item: DeliverableItem::new(&self.item)?,
            price: PriceThb::new(self.price_integer.into())?,
            est_reach: Reach::new(self.est_reach.into())?,
            reach_estimated: self.reach_estimated,
            effective_reach: People::new(self.effective_reach)?,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = campaign_kols, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CampaignKolRow {
    campaign_id: i64,
    kol_id: i64,
    status: String,
    agreed_price_integer: Option<i32>,
    over_budget_approved: bool,
    added_at: StoredTime,
}

impl CampaignKolRow {
    pub(crate) fn into_campaign_kol(self) -> Result<CampaignKol> {
        let campaign = self.campaign_id;
        (|| {
            self.added_at.get("added_at")?;
            Ok(CampaignKol {
                campaign_id: CampaignId(self.campaign_id),
                kol_id: KolId(self.kol_id),
                status: self.status.parse()?,
                agreed_price: self
                    .agreed_price_integer
                    .map(|p| PriceThb::new(p.into()))
                    .transpose()?,
                over_budget_approved: self.over_budget_approved,
            })
        })()
        .map_err(DbError::stored("campaign_kols", campaign))
    }
}

/// A creator's place in one open campaign, as [`Database::kol_campaigns`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Membership {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its client.
    pub client: String,
    /// Its name.
    pub name: String,
    /// Its status.
    pub campaign_status: CampaignStatus,
    /// The creator's status in it.
    pub kol_status: CampaignKolStatus,
    /// Its period.
    pub period: CampaignPeriod,
    /// Whether it is exclusive.
    pub exclusive: bool,
}

/// Which campaigns [`Database::campaigns`] lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignQuery {
    /// Only these statuses (empty: all).
    pub statuses: Vec<CampaignStatus>,
    /// Only this client (exact name).
    pub client: Option<String>,
    /// Campaigns with an id above this one (keyset paging; `None` starts at the first).
    pub after: Option<CampaignId>,
    /// Largest number listed (`1..=1000`).
    pub limit: u32,
}

impl Default for CampaignQuery {
    fn default() -> Self {
        Self {
            statuses: Vec::new(),
            client: None,
            after: None,
            limit: 100,
        }
    }
}

pub(crate) async fn load_campaign(
    conn: &mut AsyncPgConnection,
    id: CampaignId,
    lock: bool,
) -> Result<CampaignRow> {
    let query = campaigns::table
        .find(id.get())
        .select(CampaignRow::as_select());
    let row = if lock {
        query.for_no_key_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    row.ok_or_else(|| DbError::not_found("campaign", id))
}

pub(crate) async fn load_campaign_kol(
    conn: &mut AsyncPgConnection,
    campaign: CampaignId,
    kol: KolId,
    lock: bool,
) -> Result<Option<CampaignKol>> {
    let query = campaign_kols::table
        .find((campaign.get(), kol.get()))
        .select(CampaignKolRow::as_select());
    let row = if lock {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    row.map(CampaignKolRow::into_campaign_kol).transpose()
}

/// Moves a creator in a campaign to `to` (the row must exist and be locked by the caller).
pub(crate) async fn set_kol_status(
    conn: &mut AsyncPgConnection,
    current: &CampaignKol,
    to: CampaignKolStatus,
) -> Result<CampaignKol> {
    if current.status == to {
        return Ok(current.clone());
    }
    if !current.status.can_transition_to(to) {
        return Err(CoreError::InvalidStatusChange {
            kind: "campaign creator",
            from: current.status.as_str(),
            to: to.as_str(),
        }
        .into());
    }
    let row: CampaignKolRow = diesel::update(
        campaign_kols::table.find((current.campaign_id.get(), current.kol_id.get())),
    )
    .set(campaign_kols::status.eq(to.as_str()))
    .returning(CampaignKolRow::as_returning())
    .get_result(conn)
    .await?;
    row.into_campaign_kol()
}

/// Adds `kol` to `campaign` as `status` when it is not in it yet; returns its row, locked.
pub(crate) async fn join_campaign(
    conn: &mut AsyncPgConnection,
    campaign: CampaignId,
    kol: KolId,
    status: CampaignKolStatus,
) -> Result<CampaignKol> {
    diesel::insert_into(campaign_kols::table)
        .values((
            campaign_kols::campaign_id.eq(campaign.get()),
            campaign_kols::kol_id.eq(kol.get()),
            campaign_kols::status.eq(status.as_str()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map_err(DbError::from)
        .map_err(DbError::missing_kol("campaign_kols_kol_id_fkey", kol))
        .map_err(|e| match e {
            DbError::RuleViolation { constraint, .. }
                if constraint == "campaign_kols_campaign_id_fkey" =>
            {
                DbError::not_found("campaign", campaign)
            }
            other => other,
        })?;
    load_campaign_kol(conn, campaign, kol, true)
        .await?
        .ok_or_else(|| DbError::not_found("campaign creator", format!("{campaign}/{kol}")))
}

impl Database {
    /// Creates a campaign, as a draft.
    ///
    /// # Errors
    /// [`DbError::RuleViolation`] when a rule of the database refuses it (kol-core's types
    /// already hold the same rules, so only a changed schema gets there).
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn create_campaign(&self, campaign: &NewCampaign) -> Result<Campaign> {
        let mut conn = self.conn().await?;
        let row: CampaignRow = diesel::insert_into(campaigns::table)
            .values((
                campaigns::name.eq(campaign.name.as_str()),
                campaigns::client.eq(campaign.client.as_str()),
                campaigns::brief.eq(campaign.brief.as_ref().map(BriefText::as_str)),
                campaigns::brief_emb.eq(campaign
                    .brief_embedding
                    .as_ref()
                    .map(|e| pgvector::Vector::from(e.as_slice().to_vec()))),
                campaigns::budget_integer.eq(campaign.budget.to_i32()),
                campaigns::starts_on.eq(campaign.period.starts_on()),
                campaigns::ends_on.eq(campaign.period.ends_on()),
                campaigns::exclusive.eq(campaign.exclusive),
            ))
            .returning(CampaignRow::as_returning())
            .get_result(&mut conn)
            .await?;
        row.into_campaign()
    }

    /// One campaign.
    ///
    /// # Errors
    /// [`DbError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn campaign(&self, id: CampaignId) -> Result<Campaign> {
        let mut conn = self.conn().await?;
        load_campaign(&mut conn, id, false).await?.into_campaign()
    }

    /// Campaigns by id, filtered by status and client, one keyset page.
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for a limit outside `1..=1000`.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn campaigns(&self, query: &CampaignQuery) -> Result<Vec<Campaign>> {
        if query.limit == 0 || query.limit > 1_000 {
            return Err(DbError::argument(
                "limit",
                format!("must be 1..=1000, got {}", query.limit),
            ));
        }
        let mut q = campaigns::table
            .select(CampaignRow::as_select())
            .order(campaigns::id.asc())
            .limit(i64::from(query.limit))
            .into_boxed();
        if !query.statuses.is_empty() {
            q = q.filter(campaigns::status.eq_any(query.statuses.iter().map(|s| s.as_str())));
        }
        if let Some(client) = &query.client {
            q = q.filter(campaigns::client.eq(client.clone()));
        }
        if let Some(after) = query.after {
            q = q.filter(campaigns::id.gt(after.get()));
        }
        let mut conn = self.conn().await?;
        let rows: Vec<CampaignRow> = q.load(&mut conn).await?;
        rows.into_iter().map(CampaignRow::into_campaign).collect()
    }

    /// Moves a campaign to `to` (draft -> planning -> running -> done, or cancelled).
    ///
    /// # Errors
    /// [`DbError::InvalidInput`] with [`CoreError::InvalidStatusChange`] for a move the state
    /// machine does not allow; [`DbError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn set_campaign_status(
        &self,
        id: CampaignId,
        to: CampaignStatus,
    ) -> Result<Campaign> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            let campaign = load_campaign(conn, id, true).await?.into_campaign()?;
            if campaign.status == to {
                return Ok(campaign);
            }
            if !campaign.status.can_transition_to(to) {
                return Err(CoreError::InvalidStatusChange {
                    kind: "campaign",
                    from: campaign.status.as_str(),
                    to: to.as_str(),
                }
                .into());
            }
            let row: CampaignRow = diesel::update(campaigns::table.find(id.get()))
                .set(campaigns::status.eq(to.as_str()))
                .returning(CampaignRow::as_returning())
                .get_result(conn)
                .await?;
            row.into_campaign()
        })
        .await
    }

    /// Saves the plan a campaign is given: its figures and items, copied as they are. A draft
    /// campaign moves to `planning`; a campaign being planned gets the new plan in place of the
    /// old one. The plan's creators become `planned` (creators of the old plan left out go back
    /// to `shortlisted`).
    ///
    /// # Errors
    /// [`DbError::CampaignNotOpen`] unless the campaign is a draft or being planned;
    /// [`DbError::KolNotAvailable`] for a creator dropped from the campaign;
    /// [`DbError::NotFound`] for an unknown campaign or creator. Nothing is written on error.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn save_plan(&self, id: CampaignId, plan: &PlanRecord) -> Result<Vec<CampaignKol>> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            let campaign = load_campaign(conn, id, true).await?.into_campaign()?;
            if !matches!(
                campaign.status,
                CampaignStatus::Draft | CampaignStatus::Planning
            ) {
                return Err(DbError::CampaignNotOpen {
                    campaign_id: id,
                    status: campaign.status,
                    reason: "its plan is fixed once it runs",
                });
            }
            // The old plan goes with its items (ON DELETE CASCADE).
            diesel::delete(campaign_plans::table.find(id.get()))
                .execute(conn)
                .await?;
            diesel::update(campaigns::table.find(id.get()))
                .set(campaigns::status.eq(CampaignStatus::Planning.as_str()))
                .execute(conn)
                .await?;
            diesel::insert_into(campaign_plans::table)
                .values((
                    campaign_plans::campaign_id.eq(id.get()),
                    campaign_plans::mode.eq(plan.mode().as_str()),
                    campaign_plans::budget_integer.eq(plan.budget().to_i32()),
                    campaign_plans::effective_reach.eq(plan.effective_reach().get()),
                    campaign_plans::upper_bound.eq(plan.upper_bound().get()),
                    campaign_plans::gap.eq(plan.gap()),
                ))
                .execute(conn)
                .await?;
            let rows: Vec<PlanItemRow> = plan
                .items()
                .iter()
                .map(|i| PlanItemRow::new(id, i))
                .collect();
            diesel::insert_into(campaign_plan_items::table)
                .values(&rows)
                .execute(conn)
                .await
                .map_err(DbError::from)
                .map_err(|e| match e {
                    DbError::RuleViolation { constraint, .. }
                        if constraint == "campaign_plan_items_kol_id_fkey" =>
                    {
                        DbError::not_found("kol", "of the plan")
                    }
                    other => other,
                })?;
            // Creators of the old plan that the new one leaves out.
            let previously: Vec<CampaignKolRow> = campaign_kols::table
                .filter(campaign_kols::campaign_id.eq(id.get()))
                .filter(campaign_kols::status.eq(CampaignKolStatus::Planned.as_str()))
                .select(CampaignKolRow::as_select())
                .for_update()
                .load(conn)
                .await?;
            for row in previously {
                let kol = row.into_campaign_kol()?;
                if plan.item_for(kol.kol_id).is_none() {
                    set_kol_status(conn, &kol, CampaignKolStatus::Shortlisted).await?;
                }
            }
            let mut planned = Vec::with_capacity(plan.items().len());
            for item in plan.items() {
                let kol = join_campaign(conn, id, item.kol_id, CampaignKolStatus::Planned).await?;
                let kol = match kol.status {
                    CampaignKolStatus::Shortlisted => {
                        set_kol_status(conn, &kol, CampaignKolStatus::Planned).await?
                    }
                    CampaignKolStatus::Dropped => {
                        return Err(DbError::KolNotAvailable {
                            campaign_id: id,
                            kol_id: item.kol_id,
                            status: kol.status,
                            reason: "a dropped creator cannot be planned",
                        });
                    }
                    _ => kol,
                };
                planned.push(kol);
            }
            Ok(planned)
        })
        .await
    }

    /// The plan a campaign was given, as it was saved (`None` before a plan is saved).
    ///
    /// # Errors
    /// [`DbError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn campaign_plan(&self, id: CampaignId) -> Result<Option<PlanRecord>> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        read_snapshot!(conn, async |conn| {
            load_campaign(conn, id, false).await?;
            plan_in(conn, id).await
        })
    }

    /// Adds creators to a campaign's shortlist (creators already in it keep their status);
    /// returns their rows, in the order given.
    ///
    /// # Errors
    /// [`DbError::NotFound`] for an unknown campaign or creator; [`DbError::CampaignNotOpen`]
    /// for a campaign that is done or cancelled. Nothing is written on error.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn shortlist(&self, id: CampaignId, kols: &[KolId]) -> Result<Vec<CampaignKol>> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            let campaign = load_campaign(conn, id, false).await?.into_campaign()?;
            if !campaign.status.is_open() {
                return Err(DbError::CampaignNotOpen {
                    campaign_id: id,
                    status: campaign.status,
                    reason: "its creators are fixed",
                });
            }
            let mut out = Vec::with_capacity(kols.len());
            for &kol in kols {
                out.push(join_campaign(conn, id, kol, CampaignKolStatus::Shortlisted).await?);
            }
            Ok(out)
        })
        .await
    }

    /// The creators of a campaign, by creator id.
    ///
    /// # Errors
    /// [`DbError::NotFound`] for an unknown campaign.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn campaign_kols(&self, id: CampaignId) -> Result<Vec<CampaignKol>> {
        let mut conn = self.conn().await?;
        load_campaign(&mut conn, id, false).await?;
        kols_in(&mut conn, id).await
    }

    /// Drops a creator from a campaign, closing its open conversation there, in one
    /// transaction. A confirmed creator is not dropped (its deliverables are tracked to the
    /// end; one it does not post is `missed`).
    ///
    /// # Errors
    /// [`DbError::KolNotAvailable`] for a confirmed creator; [`DbError::NotFound`] when the
    /// creator is not in the campaign.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id, kol = %kol), err(level = "debug"))]
    pub async fn drop_kol(&self, id: CampaignId, kol: KolId) -> Result<CampaignKol> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            let current = load_campaign_kol(conn, id, kol, true)
                .await?
                .ok_or_else(|| DbError::not_found("campaign creator", format!("{id}/{kol}")))?;
            if current.status == CampaignKolStatus::Confirmed {
                return Err(DbError::KolNotAvailable {
                    campaign_id: id,
                    kol_id: kol,
                    status: current.status,
                    reason: "a confirmed creator is not dropped; mark its deliverables missed",
                });
            }
            crate::conversations::close_open_conversation(conn, id, kol).await?;
            set_kol_status(conn, &current, CampaignKolStatus::Dropped).await
        })
        .await
    }

    /// The open campaigns (draft, planning or running) a creator takes part in and was not
    /// dropped from, by campaign id: what an agency checks before booking it again.
    ///
    /// # Errors
    /// Connection errors.
    #[tracing::instrument(level = "debug", skip_all, fields(kol = %kol), err(level = "debug"))]
    pub async fn kol_campaigns(&self, kol: KolId) -> Result<Vec<Membership>> {
        let mut conn = self.conn().await?;
        memberships(&mut conn, kol, None).await
    }
}

/// The saved plan of a campaign.
pub(crate) async fn plan_in(
    conn: &mut AsyncPgConnection,
    id: CampaignId,
) -> Result<Option<PlanRecord>> {
    let plan: Option<PlanRow> = campaign_plans::table
        .find(id.get())
        .select(PlanRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(plan) = plan else {
        return Ok(None);
    };
    let items: Vec<PlanItemRow> = campaign_plan_items::table
        .filter(campaign_plan_items::campaign_id.eq(id.get()))
        .select(PlanItemRow::as_select())
        .order(campaign_plan_items::kol_id.asc())
        .load(conn)
        .await?;
    plan.into_record(items).map(Some)
}

/// The creators of a campaign, by creator id.
pub(crate) async fn kols_in(
    conn: &mut AsyncPgConnection,
    id: CampaignId,
) -> Result<Vec<CampaignKol>> {
    let rows: Vec<CampaignKolRow> = campaign_kols::table
        .filter(campaign_kols::campaign_id.eq(id.get()))
        .select(CampaignKolRow::as_select())
        .order(campaign_kols::kol_id.asc())
        .load(conn)
        .await?;
    rows.into_iter()
        .map(CampaignKolRow::into_campaign_kol)
        .collect()
}

/// The open campaigns `kol` is in (not dropped), except `except`.
pub(crate) async fn memberships(
    conn: &mut AsyncPgConnection,
    kol: KolId,
    except: Option<CampaignId>,
) -> Result<Vec<Membership>> {
    let mut q = campaign_kols::table
        .inner_join(campaigns::table)
        .filter(campaign_kols::kol_id.eq(kol.get()))
        .filter(campaign_kols::status.ne(CampaignKolStatus::Dropped.as_str()))
        .filter(campaigns::status.eq_any(["draft", "planning", "running"]))
        .select((CampaignRow::as_select(), campaign_kols::status))
        .order(campaigns::id.asc())
        .into_boxed();
    if let Some(except) = except {
        q = q.filter(campaigns::id.ne(except.get()));
    }
    let rows: Vec<(CampaignRow, String)> = q.load(conn).await?;
    rows.into_iter()
        .map(|(row, kol_status)| {
            let id = row.id;
            let campaign = row.into_campaign()?;
            Ok(Membership {
                campaign_id: campaign.id,
                client: campaign.details.client.as_str().to_owned(),
                name: campaign.details.name.as_str().to_owned(),
                campaign_status: campaign.status,
                kol_status: kol_status
                    .parse()
                    .map_err(DbError::stored("campaign_kols", id))?,
                period: campaign.details.period,
                exclusive: campaign.details.exclusive,
            })
        })
        .collect()
}
