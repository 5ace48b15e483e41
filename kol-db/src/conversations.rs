//! Outreach: conversations with creators, their messages, and the negotiation of terms.
//!
//! Every change runs in one transaction. Transitions lock the conversation row
//! (`SELECT ... FOR UPDATE`), check the move with kol-core's state machine, write the new status
//! and terms, and record an outbound message that states the terms (so the thread reads as the
//! history of the negotiation), all or nothing. Two concurrent transitions on one conversation
//! therefore serialize, and the second sees the state the first left. A caller that acted on a
//! state it saw passes it as [`TransitionOptions::expected_status`]: if another transition got
//! there first, it gets [`DbError::StaleConversation`] and nothing changes.
//!
//! Conversations belong to a campaign. Opening one makes the creator `contacted` in that
//! campaign; agreeing terms confirms it there (within the campaign's budget, unless the
//! agreement allows an overrun, and respecting exclusivity) and creates its deliverables, in the
//! same transaction. The campaign creator's row is locked before the conversation's, by every
//! path, so an agreement and a drop of the same creator serialize and end one way or the other.
//!
//! The database keeps the rules too: at most one open conversation per creator per campaign (a
//! partial unique index), statuses that only move forward and agreed terms that never change
//! once confirmed (triggers), an append-only history (messages never edited, moved or
//! deleted), and `last_message_at` that follows the newest message (a trigger).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use kol_core::{
    CampaignId, CampaignKol, CampaignKolStatus, CampaignStatus, Channel, Conversation,
    ConversationId, ConversationParts, ConversationStatus, CoreError, Deliverable, KolId, Message,
    MessageBody, MessageId, NewDeliverable, NewMessage, PriceThb, Terms, Transition,
};

use crate::campaigns::{
    Membership, join_campaign, load_campaign, load_campaign_kol, set_kol_status,
};
use crate::database::{Database, read_snapshot};
use crate::deliverables::insert_deliverables;
use crate::error::{DbError, Result};
use crate::schema::{campaign_kols, conversations, messages};
use crate::stored::StoredTime;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = conversations, check_for_backend(diesel::pg::Pg))]
struct ConversationRow {
    id: i64,
    campaign_id: i64,
    kol_id: i64,
    channel: String,
    status: String,
    created_at: StoredTime,
    last_message_at: Option<StoredTime>,
    proposed_deliverables: Option<String>,
    proposed_timeline: Option<String>,
    proposed_price_integer: Option<i32>,
    agreed_deliverables: Option<String>,
    agreed_timeline: Option<String>,
    agreed_price_integer: Option<i32>,
}

fn terms(d: Option<String>, t: Option<String>, p: Option<i32>) -> kol_core::Result<Option<Terms>> {
    match (d, t, p) {
        (Some(d), Some(t), Some(p)) => Ok(Some(Terms::new(&d, &t, PriceThb::new(p.into())?)?)),
        (None, None, None) => Ok(None),
        _ => Err(CoreError::InvalidText {
            field: "terms",
            reason: "deliverables, timeline and price must be stored together".to_owned(),
        }),
    }
}

impl ConversationRow {
    fn into_conversation(self) -> Result<Conversation> {
        let id = self.id;
        (|| {
            Conversation::from_parts(ConversationParts {
                id: ConversationId(self.id),
                campaign_id: CampaignId(self.campaign_id),
                kol_id: KolId(self.kol_id),
                channel: self.channel.parse()?,
                status: self.status.parse()?,
                created_at: self.created_at.get("created_at")?,
                last_message_at: self
                    .last_message_at
                    .map(|t| t.get("last_message_at"))
                    .transpose()?,
                proposed: terms(
                    self.proposed_deliverables,
                    self.proposed_timeline,
                    self.proposed_price_integer,
                )?,
                agreed: terms(
                    self.agreed_deliverables,
                    self.agreed_timeline,
                    self.agreed_price_integer,
                )?,
            })
        })()
        .map_err(DbError::stored("conversations", id))
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = messages, check_for_backend(diesel::pg::Pg))]
struct MessageRow {
    id: i64,
    conversation_id: i64,
    direction: String,
    body: String,
    created_at: StoredTime,
}

impl MessageRow {
    fn into_message(self) -> Result<Message> {
        let id = self.id;
        (|| {
            Ok(Message {
                id: MessageId(self.id),
                conversation_id: ConversationId(self.conversation_id),
                direction: self.direction.parse()?,
                body: MessageBody::new(self.body)?,
                created_at: self.created_at.get("created_at")?,
            })
        })()
        .map_err(DbError::stored("messages", id))
    }
}

/// A conversation with its messages, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    /// The conversation.
    pub conversation: Conversation,
    /// Its messages, in the order they were stored (time, then id).
    pub messages: Vec<Message>,
}

/// A stored message and the conversation's `last_message_at` after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The message.
    pub message: Message,
    /// The conversation's `last_message_at` read once the message is in: the newest message's
    /// time (this message's, or a newer one's).
    pub last_message_at: DateTime<Utc>,
}

/// What a transition did.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionOutcome {
    /// The conversation after the transition.
    pub conversation: Conversation,
    /// The outbound message that states the terms (for proposals and agreements).
    pub message: Option<Message>,
}

/// Settings of [`Database::transition`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransitionOptions {
    /// The status the caller saw. When set and the conversation is in another status (another
    /// transition got there first), the transition fails with [`DbError::StaleConversation`].
    pub expected_status: Option<ConversationStatus>,
}

/// A new conversation and where its creator stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// The conversation with its first message.
    pub thread: Thread,
    /// The creator in this campaign (now `contacted`, unless it was further).
    pub campaign_kol: CampaignKol,
    /// The creator's other open campaigns: an agency sees at once that it is in talks elsewhere.
    pub other_campaigns: Vec<Membership>,
}

/// Terms to agree in a campaign conversation, with what they bring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// The agreed terms (their price is what the campaign spends on the creator).
    pub terms: Terms,
    /// The deliverables they bring, each an item of the creator's plan entry. `None`: one
    /// deliverable of the planned item, due on the campaign's last day (none when the creator
    /// has no plan entry).
    pub deliverables: Option<Vec<NewDeliverable>>,
    /// Whether confirming may take the campaign over its budget (recorded with the creator, and
    /// shown by the report).
    pub allow_over_budget: bool,
}

impl Agreement {
    /// The terms, with the default deliverable and no overrun allowed.
    pub fn new(terms: Terms) -> Self {
        Self {
            terms,
            deliverables: None,
            allow_over_budget: false,
        }
    }
}

/// What an agreement did.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreed {
    /// The conversation, now confirmed.
    pub conversation: Conversation,
    /// The outbound message stating the terms.
    pub message: Message,
    /// The creator, now confirmed in the campaign at the agreed price.
    pub campaign_kol: CampaignKol,
    /// The deliverables created.
    pub deliverables: Vec<Deliverable>,
}

/// A page of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineQuery {
    /// Only conversations of this campaign (`None`: every campaign).
    pub campaign: Option<CampaignId>,
    /// Only conversations in these statuses (empty: all).
    pub statuses: Vec<ConversationStatus>,
    /// Largest number of conversations (`1..=1_000`).
    pub limit: u32,
    /// Conversations to skip (for the next page: the previous offset plus its length). The
    /// pipeline is ordered by latest activity, which moves as messages arrive: a page read after
    /// new messages came in may repeat or miss a conversation that moved in between.
    pub offset: u32,
}

impl Default for PipelineQuery {
    fn default() -> Self {
        Self {
            campaign: None,
            statuses: Vec::new(),
            limit: 50,
            offset: 0,
        }
    }
}

/// The texts of the outbound messages that record a negotiation step.
fn terms_message(transition: &Transition) -> Result<Option<NewMessage>> {
    let text = match transition {
        Transition::Propose(t) => format!("Proposed terms: {t}"),
        Transition::Agree(t) => format!("Agreed terms: {t}"),
        Transition::Close => return Ok(None),
    };
    // Terms are bounded (2,000 + 500 characters plus a price), far below the body limit; were
    // that ever to change, the transition fails whole rather than losing its message.
    Ok(Some(NewMessage::outbound(MessageBody::new(text)?)))
}

async fn insert_message(
    conn: &mut AsyncPgConnection,
    conversation_id: ConversationId,
    message: &NewMessage,
) -> Result<Message> {
    let row: MessageRow = diesel::insert_into(messages::table)
        .values((
            messages::conversation_id.eq(conversation_id.get()),
            messages::direction.eq(message.direction.as_str()),
            messages::body.eq(message.body.as_str()),
        ))
        .returning(MessageRow::as_returning())
        .get_result(conn)
        .await?;
    row.into_message()
}

async fn load_conversation(
    conn: &mut AsyncPgConnection,
    id: ConversationId,
    for_update: bool,
) -> Result<Conversation> {
    let query = conversations::table
        .find(id.get())
        .select(ConversationRow::as_select());
    let row: Option<ConversationRow> = if for_update {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    row.ok_or_else(|| DbError::not_found("conversation", id))?
        .into_conversation()
}

impl Database {
    /// Opens a conversation with a creator for a campaign on `channel`, with its first outbound
    /// message, atomically. The creator joins the campaign as `contacted` (or moves there from
    /// shortlisted or planned). The result lists the creator's other open campaigns.
    ///
    /// # Errors
    /// [`DbError::OpenConversationExists`] naming the creator's open conversation in this
    /// campaign; [`DbError::KolNotAvailable`] for a creator dropped from (or already confirmed
    /// in) the campaign; [`DbError::CampaignNotOpen`] for a campaign that is done or cancelled;
    /// [`DbError::NotFound`] for an unknown campaign or creator. Nothing is written on error.
    #[tracing::instrument(level = "debug", skip_all, fields(kol_id = %kol_id), err(level = "debug"))]
    pub async fn open_conversation(
        &self,
        campaign_id: CampaignId,
        kol_id: KolId,
        channel: Channel,
        first_message: &MessageBody,
    ) -> Result<Opened> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        let first = NewMessage::outbound(first_message.clone());
        let opened = conn
            .transaction::<_, DbError, _>(async |conn| {
                let campaign = load_campaign(conn, campaign_id, false)
                    .await?
                    .into_campaign()?;
                if !campaign.status.is_open() {
                    return Err(DbError::CampaignNotOpen {
                        campaign_id,
                        status: campaign.status,
                        reason: "no new outreach",
                    });
                }
                let member =
                    join_campaign(conn, campaign_id, kol_id, CampaignKolStatus::Contacted).await?;
                let member = match member.status {
                    CampaignKolStatus::Shortlisted | CampaignKolStatus::Planned => {
                        set_kol_status(conn, &member, CampaignKolStatus::Contacted).await?
                    }
                    CampaignKolStatus::Contacted => member,
                    status @ (CampaignKolStatus::Confirmed | CampaignKolStatus::Dropped) => {
                        return Err(DbError::KolNotAvailable {
                            campaign_id,
                            kol_id,
                            status,
                            reason: "outreach is for creators not yet confirmed or dropped",
                        });
                    }
                };
                let row: ConversationRow = diesel::insert_into(conversations::table)
                    .values((
                        conversations::campaign_id.eq(campaign_id.get()),
                        conversations::kol_id.eq(kol_id.get()),
                        conversations::channel.eq(channel.as_str()),
                        conversations::status.eq(ConversationStatus::Contacted.as_str()),
                    ))
                    .returning(ConversationRow::as_returning())
                    .get_result(conn)
                    .await?;
                let id = ConversationId(row.id);
                let message = insert_message(conn, id, &first).await?;
                let conversation = load_conversation(conn, id, false).await?;
                let other_campaigns =
                    crate::campaigns::memberships(conn, kol_id, Some(campaign_id)).await?;
                Ok(Opened {
                    thread: Thread {
                        conversation,
                        messages: vec![message],
                    },
                    campaign_kol: member,
                    other_campaigns,
                })
            })
            .await;
        match opened {
            Err(DbError::UniqueViolation {
                constraint,
                message,
            }) if constraint == "conversations_one_open_per_campaign_kol" => {
                match open_conversation_of(conn, campaign_id, kol_id).await? {
                    Some(id) => Err(DbError::OpenConversationExists {
                        campaign_id,
                        kol_id,
                        conversation_id: id,
                    }),
                    // Closed in the meantime: report the conflict as it happened.
                    None => Err(DbError::UniqueViolation {
                        constraint,
                        message,
                    }),
                }
            }
            other => other,
        }
    }

    /// Records a message (ours or the creator's) in a conversation, closed ones included (a late
    /// reply is still history). Returns it with the conversation's `last_message_at` read right
    /// after the insert: the newest message's time, which is this message's unless a newer one
    /// is already there.
    ///
    /// # Errors
    /// [`DbError::NotFound`] when the conversation does not exist.
    #[tracing::instrument(level = "debug", skip_all, fields(conversation_id = %conversation_id), err(level = "debug"))]
    pub async fn add_message(
        &self,
        conversation_id: ConversationId,
        message: &NewMessage,
    ) -> Result<Recorded> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        // One statement, committed on its own: the trigger's row lock on the conversation is
        // held only while this statement commits, not across further round trips, so writers
        // to one conversation do not queue behind each other's network latency.
        let message = match insert_message(conn, conversation_id, message).await {
            Err(DbError::RuleViolation { constraint, .. })
                if constraint == "messages_conversation_id_fkey" =>
            {
                return Err(DbError::not_found("conversation", conversation_id));
            }
            other => other?,
        };
        let last: Option<StoredTime> = conversations::table
            .find(conversation_id.get())
            .select(conversations::last_message_at)
            .first(conn)
            .await?;
        let last = last
            .map(|t| t.get("last_message_at"))
            .transpose()
            .map_err(DbError::stored("conversations", conversation_id.get()))?;
        Ok(Recorded {
            last_message_at: last.unwrap_or(message.created_at),
            message,
        })
    }

    /// Applies a transition (propose, agree, close) to a conversation: one transaction that
    /// locks the row, checks the move, writes status and terms, and records the outbound
    /// message stating the terms.
    ///
    /// # Errors
    /// [`DbError::InvalidInput`] with [`CoreError::InvalidTransition`] when the status may not
    /// make this move; [`DbError::StaleConversation`] when `options.expected_status` is set and
    /// differs; [`DbError::NotFound`]. On any error nothing changes.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn transition(
        &self,
        id: ConversationId,
        transition: Transition,
        options: TransitionOptions,
    ) -> Result<TransitionOutcome> {
        if let Transition::Agree(terms) = transition {
            let agreed = self.agree(id, &Agreement::new(terms), options).await?;
            return Ok(TransitionOutcome {
                conversation: agreed.conversation,
                message: Some(agreed.message),
            });
        }
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            let mut conversation = load_conversation(conn, id, true).await?;
            if let Some(expected) = options.expected_status {
                if conversation.status() != expected {
                    return Err(DbError::StaleConversation {
                        id,
                        expected,
                        actual: conversation.status(),
                    });
                }
            }
            let message = terms_message(&transition)?;
            conversation.apply(transition)?;
            let parts = conversation.parts();
            let proposed = parts.proposed.as_ref();
            let agreed = parts.agreed.as_ref();
            diesel::update(conversations::table.find(id.get()))
                .set((
                    conversations::status.eq(parts.status.as_str()),
                    conversations::proposed_deliverables.eq(proposed.map(Terms::deliverables)),
                    conversations::proposed_timeline.eq(proposed.map(Terms::timeline)),
                    conversations::proposed_price_integer.eq(proposed.map(|t| t.price().to_i32())),
                    conversations::agreed_deliverables.eq(agreed.map(Terms::deliverables)),
                    conversations::agreed_timeline.eq(agreed.map(Terms::timeline)),
                    conversations::agreed_price_integer.eq(agreed.map(|t| t.price().to_i32())),
                ))
                .execute(conn)
                .await?;
            let message = match message {
                Some(m) => Some(insert_message(conn, id, &m).await?),
                None => None,
            };
            let conversation = load_conversation(conn, id, false).await?;
            Ok(TransitionOutcome {
                conversation,
                message,
            })
        })
        .await
    }

    /// Proposes (or re-proposes) terms: `contacted | negotiating -> negotiating`.
    ///
    /// # Errors
    /// As [`Database::transition`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn propose_terms(
        &self,
        id: ConversationId,
        terms: Terms,
    ) -> Result<TransitionOutcome> {
        self.transition(id, Transition::Propose(terms), TransitionOptions::default())
            .await
    }

    /// Agrees on terms: `negotiating -> confirmed`, with the default deliverable and no
    /// budget overrun (see [`Database::agree`] for the rest).
    ///
    /// # Errors
    /// As [`Database::agree`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn agree_terms(&self, id: ConversationId, terms: Terms) -> Result<Agreed> {
        self.agree(id, &Agreement::new(terms), TransitionOptions::default())
            .await
    }

    /// Agrees on terms in one transaction: the conversation goes `negotiating -> confirmed`
    /// with a message stating the terms, the creator is confirmed in the campaign at the
    /// agreed price, and the agreement's deliverables are created.
    ///
    /// # Errors
    /// [`DbError::OverBudget`] when the campaign's confirmed creators would cost more than its
    /// budget (unless `agreement.allow_over_budget`); [`DbError::ExclusivityConflict`];
    /// [`DbError::CampaignNotOpen`] unless the campaign is running; [`DbError::KolNotAvailable`]
    /// when the creator was dropped meanwhile; [`DbError::NotPlanned`] for a deliverable of an
    /// item not planned for the creator; and the errors of [`Database::transition`]. On any
    /// error nothing changes.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn agree(
        &self,
        id: ConversationId,
        agreement: &Agreement,
        options: TransitionOptions,
    ) -> Result<Agreed> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        conn.transaction::<_, DbError, _>(async |conn| {
            let seen = load_conversation(conn, id, false).await?;
            let (campaign_id, kol_id) = (seen.campaign_id(), seen.kol_id());
            // Lock order: campaign creator, then conversation (as drop_kol does).
            let member = load_campaign_kol(conn, campaign_id, kol_id, true)
                .await?
                .ok_or_else(|| {
                    DbError::not_found("campaign creator", format!("{campaign_id}/{kol_id}"))
                })?;
            let mut conversation = load_conversation(conn, id, true).await?;
            if let Some(expected) = options.expected_status {
                if conversation.status() != expected {
                    return Err(DbError::StaleConversation {
                        id,
                        expected,
                        actual: conversation.status(),
                    });
                }
            }
            let transition = Transition::Agree(agreement.terms.clone());
            conversation.check(&transition)?;
            if member.status != CampaignKolStatus::Contacted {
                return Err(DbError::KolNotAvailable {
                    campaign_id,
                    kol_id,
                    status: member.status,
                    reason: "only a contacted creator is confirmed",
                });
            }
            // The campaign's row serializes its confirmations (the trigger takes the same lock).
            let campaign = load_campaign(conn, campaign_id, true)
                .await?
                .into_campaign()?;
            if campaign.status != CampaignStatus::Running {
                return Err(DbError::CampaignNotOpen {
                    campaign_id,
                    status: campaign.status,
                    reason: "creators are confirmed only while it runs",
                });
            }
            let price = u64::from(agreement.terms.price().get());
            let (committed, rival): (i64, Option<i64>) = diesel::select((
                campaign_committed_thb(campaign_id.get(), kol_id.get()),
                campaign_exclusivity_rival(campaign_id.get(), kol_id.get()),
            ))
            .get_result(conn)
            .await?;
            let committed = committed.unsigned_abs();
            let budget = u64::from(campaign.details.budget.get());
            if committed + price > budget && !agreement.allow_over_budget {
                return Err(DbError::OverBudget {
                    campaign_id,
                    kol_id,
                    budget,
                    committed,
                    price,
                });
            }
            if let Some(other) = rival {
                return Err(DbError::ExclusivityConflict {
                    campaign_id,
                    kol_id,
                    other_campaign_id: CampaignId(other),
                });
            }
            let message = terms_message(&transition)?;
            conversation.apply(transition)?;
            let agreed_terms = &agreement.terms;
            diesel::update(conversations::table.find(id.get()))
                .set((
                    conversations::status.eq(ConversationStatus::Confirmed.as_str()),
                    conversations::agreed_deliverables.eq(agreed_terms.deliverables()),
                    conversations::agreed_timeline.eq(agreed_terms.timeline()),
                    conversations::agreed_price_integer.eq(agreed_terms.price().to_i32()),
                ))
                .execute(conn)
                .await?;
            let message = match message {
                Some(m) => insert_message(conn, id, &m).await?,
                None => {
                    return Err(DbError::argument(
                        "transition",
                        "an agreement states its terms",
                    ));
                }
            };
            let row: crate::campaigns::CampaignKolRow =
                diesel::update(campaign_kols::table.find((campaign_id.get(), kol_id.get())))
                    .set((
                        campaign_kols::status.eq(CampaignKolStatus::Confirmed.as_str()),
                        campaign_kols::agreed_price_integer.eq(agreed_terms.price().to_i32()),
                        campaign_kols::over_budget_approved
                            .eq(agreement.allow_over_budget && committed + price > budget),
                    ))
                    .returning(crate::campaigns::CampaignKolRow::as_returning())
                    .get_result(conn)
                    .await?;
            let campaign_kol = row.into_campaign_kol()?;
            let deliverables = insert_deliverables(
                conn,
                &campaign,
                kol_id,
                id,
                agreement.deliverables.as_deref(),
            )
            .await?;
            let conversation = load_conversation(conn, id, false).await?;
            Ok(Agreed {
                conversation,
                message,
                campaign_kol,
                deliverables,
            })
        })
        .await
    }

    /// Closes a conversation (from any open status).
    ///
    /// # Errors
    /// As [`Database::transition`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn close_conversation(&self, id: ConversationId) -> Result<TransitionOutcome> {
        self.transition(id, Transition::Close, TransitionOptions::default())
            .await
    }

    /// One conversation.
    ///
    /// # Errors
    /// [`DbError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn conversation(&self, id: ConversationId) -> Result<Conversation> {
        let mut conn = self.conn().await?;
        load_conversation(&mut conn, id, false).await
    }

    /// One conversation with its messages in order (time, then id).
    ///
    /// # Errors
    /// [`DbError::NotFound`].
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn thread(&self, id: ConversationId) -> Result<Thread> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        // One snapshot for both reads.
        read_snapshot!(conn, async |conn| {
            let conversation = load_conversation(conn, id, false).await?;
            let rows: Vec<MessageRow> = messages::table
                .filter(messages::conversation_id.eq(id.get()))
                .select(MessageRow::as_select())
                .order((messages::created_at.asc(), messages::id.asc()))
                .load(conn)
                .await?;
            let messages = rows
                .into_iter()
                .map(MessageRow::into_message)
                .collect::<Result<_>>()?;
            Ok(Thread {
                conversation,
                messages,
            })
        })
    }

    /// The pipeline: conversations (optionally of some statuses), newest activity first
    /// (`last_message_at`, then id, descending).
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for a limit outside `1..=1000`.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn pipeline(&self, query: &PipelineQuery) -> Result<Vec<Conversation>> {
        if query.limit == 0 || query.limit > 1_000 {
            return Err(DbError::argument(
                "limit",
                format!("must be 1..=1000, got {}", query.limit),
            ));
        }
        let mut q = conversations::table
            .select(ConversationRow::as_select())
            .into_boxed();
        if !query.statuses.is_empty() {
            q = q.filter(conversations::status.eq_any(query.statuses.iter().map(|s| s.as_str())));
        }
        if let Some(campaign) = query.campaign {
            q = q.filter(conversations::campaign_id.eq(campaign.get()));
        }
        let mut conn = self.conn().await?;
        let rows: Vec<ConversationRow> = q
            .order((
                conversations::last_message_at.desc().nulls_last(),
                conversations::id.desc(),
            ))
            .limit(i64::from(query.limit))
            .offset(i64::from(query.offset))
            .load(&mut conn)
            .await?;
        rows.into_iter()
            .map(ConversationRow::into_conversation)
            .collect()
    }

    /// A creator's outreach history: every conversation, oldest first.
    ///
    /// # Errors
    /// Connection errors; [`DbError::InvalidStoredData`].
    #[tracing::instrument(level = "debug", skip_all, fields(kol_id = %kol_id), err(level = "debug"))]
    pub async fn kol_history(&self, kol_id: KolId) -> Result<Vec<Conversation>> {
        let mut conn = self.conn().await?;
        let rows: Vec<ConversationRow> = conversations::table
            .filter(conversations::kol_id.eq(kol_id.get()))
            .select(ConversationRow::as_select())
            .order((conversations::created_at.asc(), conversations::id.asc()))
            .load(&mut conn)
            .await?;
        rows.into_iter()
            .map(ConversationRow::into_conversation)
            .collect()
    }

    /// Count of messages in a conversation.
    ///
    /// # Errors
    /// Connection errors.
    #[tracing::instrument(level = "debug", skip_all, fields(id = %id), err(level = "debug"))]
    pub async fn message_count(&self, id: ConversationId) -> Result<u64> {
        let mut conn = self.conn().await?;
        let n: i64 = messages::table
            .filter(messages::conversation_id.eq(id.get()))
            .count()
            .get_result(&mut conn)
            .await?;
        Ok(n.unsigned_abs())
    }
}

diesel::define_sql_function! {
    /// What a campaign has committed to its confirmed creators except one (migration 8).
    fn campaign_committed_thb(campaign: diesel::sql_types::Int8, except_kol: diesel::sql_types::Int8) -> diesel::sql_types::Int8;
}

diesel::define_sql_function! {
    /// The competing campaign that exclusivity sets against confirming a creator (migration 8).
    fn campaign_exclusivity_rival(campaign: diesel::sql_types::Int8, kol: diesel::sql_types::Int8) -> diesel::sql_types::Nullable<diesel::sql_types::Int8>;
}

/// The open conversation of `kol` in `campaign`, if any.
async fn open_conversation_of(
    conn: &mut AsyncPgConnection,
    campaign: CampaignId,
    kol: KolId,
) -> Result<Option<ConversationId>> {
    let id: Option<i64> = conversations::table
        .filter(conversations::campaign_id.eq(campaign.get()))
        .filter(conversations::kol_id.eq(kol.get()))
        .filter(conversations::status.ne(ConversationStatus::Closed.as_str()))
        .select(conversations::id)
        .first(conn)
        .await
        .optional()?;
    Ok(id.map(ConversationId))
}

/// Closes the open conversation of `kol` in `campaign`, if it has one (the caller holds the
/// campaign creator's row lock).
pub(crate) async fn close_open_conversation(
    conn: &mut AsyncPgConnection,
    campaign: CampaignId,
    kol: KolId,
) -> Result<Option<Conversation>> {
    let Some(id) = open_conversation_of(conn, campaign, kol).await? else {
        return Ok(None);
    };
    let mut conversation = load_conversation(conn, id, true).await?;
    conversation.apply(Transition::Close)?;
    diesel::update(conversations::table.find(id.get()))
        .set(conversations::status.eq(ConversationStatus::Closed.as_str()))
        .execute(conn)
        .await?;
    Ok(Some(conversation))
}
