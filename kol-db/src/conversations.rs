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
//! The database keeps the rules too: at most one open conversation per creator (a partial unique
//! index), statuses that only move forward and agreed terms that never change once confirmed
//! (a trigger), and `last_message_at` that follows the newest message (a trigger).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use kol_core::{
    Channel, Conversation, ConversationId, ConversationParts, ConversationStatus, CoreError, KolId,
    Message, MessageBody, MessageId, NewMessage, PriceThb, Terms, Transition,
};

use crate::database::Database;
use crate::error::{DbError, Result};
use crate::schema::{conversations, messages};
use crate::stored::StoredTime;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = conversations, check_for_backend(diesel::pg::Pg))]
struct ConversationRow {
    id: i64,
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

/// A page of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineQuery {
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
    /// Opens a conversation with a creator on `channel`, with its first outbound message,
    /// atomically.
    ///
    /// # Errors
    /// [`DbError::OpenConversationExists`] naming the creator's open conversation when it has
    /// one (nothing is written); [`DbError::NotFound`] when the creator does not exist.
    pub async fn open_conversation(
        &self,
        kol_id: KolId,
        channel: Channel,
        first_message: &MessageBody,
    ) -> Result<Thread> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        let first = NewMessage::outbound(first_message.clone());
        let opened = conn
            .transaction::<_, DbError, _>(async |conn| {
                let row: ConversationRow = diesel::insert_into(conversations::table)
                    .values((
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
                Ok(Thread {
                    conversation,
                    messages: vec![message],
                })
            })
            .await
            .map_err(DbError::missing_kol("conversations_kol_id_fkey", kol_id));
        match opened {
            Err(DbError::UniqueViolation {
                constraint,
                message,
            }) if constraint == "conversations_one_open_per_kol" => {
                let open: Option<i64> = conversations::table
                    .filter(conversations::kol_id.eq(kol_id.get()))
                    .filter(conversations::status.ne(ConversationStatus::Closed.as_str()))
                    .select(conversations::id)
                    .first(conn)
                    .await
                    .optional()?;
                Err(match open {
                    Some(id) => DbError::OpenConversationExists {
                        kol_id,
                        conversation_id: ConversationId(id),
                    },
                    // Closed in the meantime: report the conflict as it happened.
                    None => DbError::UniqueViolation {
                        constraint,
                        message,
                    },
                })
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
    pub async fn transition(
        &self,
        id: ConversationId,
        transition: Transition,
        options: TransitionOptions,
    ) -> Result<TransitionOutcome> {
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
    pub async fn propose_terms(
        &self,
        id: ConversationId,
        terms: Terms,
    ) -> Result<TransitionOutcome> {
        self.transition(id, Transition::Propose(terms), TransitionOptions::default())
            .await
    }

    /// Agrees on terms: `negotiating -> confirmed`.
    ///
    /// # Errors
    /// As [`Database::transition`].
    pub async fn agree_terms(&self, id: ConversationId, terms: Terms) -> Result<TransitionOutcome> {
        self.transition(id, Transition::Agree(terms), TransitionOptions::default())
            .await
    }

    /// Closes a conversation (from any open status).
    ///
    /// # Errors
    /// As [`Database::transition`].
    pub async fn close_conversation(&self, id: ConversationId) -> Result<TransitionOutcome> {
        self.transition(id, Transition::Close, TransitionOptions::default())
            .await
    }

    /// One conversation.
    ///
    /// # Errors
    /// [`DbError::NotFound`].
    pub async fn conversation(&self, id: ConversationId) -> Result<Conversation> {
        let mut conn = self.conn().await?;
        load_conversation(&mut conn, id, false).await
    }

    /// One conversation with its messages in order (time, then id).
    ///
    /// # Errors
    /// [`DbError::NotFound`].
    pub async fn thread(&self, id: ConversationId) -> Result<Thread> {
        let mut pooled = self.conn().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        // One snapshot for both reads.
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run::<_, DbError, _>(async |conn| {
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
            .await
    }

    /// The pipeline: conversations (optionally of some statuses), newest activity first
    /// (`last_message_at`, then id, descending).
    ///
    /// # Errors
    /// [`DbError::InvalidArgument`] for a limit outside `1..=1000`.
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
