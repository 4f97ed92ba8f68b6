//! A message that arrives alone, written by one statement: it locks its
//! open dialog, inserts the message with the next number, moves the dialog
//! to it, writes the message's events into the outbox (and for a manager's
//! reply, their read position), and commits on its own. That is one round
//! trip to PostgreSQL instead of four or more (begin, the message, its
//! events, commit).
//!
//! An event's row in the outbox names the message rather than carrying it:
//! the message's number and time are only known inside the statement. The
//! relay publishes the events built here at once; should the service die
//! before that, the outbox's sweep builds the same events from the message
//! ([`MessageEvents`]), under the same ids, so JetStream keeps one of each.
//!
//! This is a visitor's message into their open dialog, and a manager's
//! reply into an open dialog that has a manager. Anything else (a dialog to
//! open, reopen or take, or posts arriving together) goes the way of
//! [`crate::writer`]'s transactions; when the statement finds the dialog is
//! not such a one, the channel not one the contact can be reached on, or
//! the message already there, it writes nothing and the post goes that way.

use std::collections::HashMap;

use futures::future::BoxFuture;
use sqlx::postgres::PgRow;
use sqlx::{FromRow as _, PgConnection, Row as _};
use uuid::Uuid;

use chat_platform::outbox::{BuiltEvents, NewEvent, ReferencedEvent, Resolve};
use chat_proto::dialog::v1::Channel;

use crate::db::{MESSAGE_COLUMNS, MessageRow, NewMessage, PREVIEW_CHARS};
use crate::events::{self, MESSAGE_CREATED, MESSENGER_REPLY_CREATED};

/// A message stored alone, with its events.
pub struct Stored {
    pub message: MessageRow,
    /// Its events, for the relay to publish at once.
    pub events: Vec<ReferencedEvent>,
}

/// Writes a visitor's message into `dialog_id`, which must be an open
/// dialog of theirs, with its event, in one statement. `None`, having
/// written nothing, when it is not (or the message is a repeat).
pub async fn append_visitor_message(
    conn: &mut PgConnection,
    new: &NewMessage<'_>,
    dialog_id: Uuid,
    contact_id: Uuid,
    channel: &str,
) -> sqlx::Result<Option<Stored>> {
    let sql = format!(
        "with d as ( \
             select id, contact_id, last_seq + 1 as next_seq, updated_at from dialog \
             where account_id = $1 and id = $2 and contact_id = $3 and status = 'open' \
             for update \
         ), m as ( \
             insert into message (id, account_id, dialog_id, seq, author_kind, author_id, \
                 client_message_id, text, channel, delivery_state, created_at) \
             select $4, $1, d.id, d.next_seq, 'visitor', $3, $5, $6, $7, 'stored', \
                 greatest(clock_timestamp(), d.updated_at) from d \
             on conflict on constraint message_client_id_unique do nothing \
             returning {MESSAGE_COLUMNS} \
         ), moved as ( \
             update dialog set last_seq = m.seq, last_message_text = left(m.text, {PREVIEW_CHARS}), \
                 last_message_at = m.created_at, updated_at = m.created_at, \
                 inbound_count = inbound_count + 1, last_inbound_channel = m.channel, \
                 inbound_channels = case when m.channel = any(dialog.inbound_channels) \
                     then dialog.inbound_channels else dialog.inbound_channels || m.channel end \
             from m where dialog.account_id = m.account_id and dialog.id = m.dialog_id \
         ), {EVENTS} \
         {STORED}"
    );
    run(conn, &sql, new, dialog_id, contact_id, Some(channel)).await
}

/// Writes a manager's reply into `dialog_id`, which must be open and have
/// a manager, with its events and the manager's read position, in one
/// statement. `channel` `None`: where the contact last wrote from. `None`,
/// having written nothing, when the dialog is not so, the channel not one
/// the contact can be reached on, or the message a repeat.
pub async fn append_manager_reply(
    conn: &mut PgConnection,
    new: &NewMessage<'_>,
    dialog_id: Uuid,
    manager_id: Uuid,
) -> sqlx::Result<Option<Stored>> {
    let sql = format!(
        "with d as ( \
             select id, contact_id, last_seq + 1 as next_seq, updated_at, inbound_count, \
                 last_inbound_channel, inbound_channels, contact_email from dialog \
             where account_id = $1 and id = $2 and status = 'open' and manager_id is not null \
             for update \
         ), m as ( \
             insert into message (id, account_id, dialog_id, seq, author_kind, author_id, \
                 client_message_id, text, channel, delivery_state, created_at) \
             select $4, $1, d.id, d.next_seq, 'manager', $3, $5, $6, \
                 coalesce($7, d.last_inbound_channel), 'stored', \
                 greatest(clock_timestamp(), d.updated_at) from d \
             where $7::text is null or $7 = any(d.inbound_channels) \
                 or ($7 = 'email' and d.contact_email <> '') \
             on conflict on constraint message_client_id_unique do nothing \
             returning {MESSAGE_COLUMNS} \
         ), moved as ( \
             update dialog set last_seq = m.seq, last_message_text = left(m.text, {PREVIEW_CHARS}), \
                 last_message_at = m.created_at, updated_at = m.created_at \
             from m where dialog.account_id = m.account_id and dialog.id = m.dialog_id \
         ), marked as ( \
             insert into dialog_read as r (account_id, dialog_id, manager_id, read_seq, inbound_read) \
             select $1, m.dialog_id, $3, m.seq, d.inbound_count from m cross join d \
             on conflict (dialog_id, manager_id) do update \
                 set read_seq = excluded.read_seq, inbound_read = excluded.inbound_read, \
                     updated_at = now() \
                 where r.read_seq < excluded.read_seq \
         ), {EVENTS} \
         {STORED}"
    );
    run(conn, &sql, new, dialog_id, manager_id, new.channel).await
}

/// Runs one of the statements above: $1 to $7 the message (its account,
/// dialog, author, new id, client id, text and channel), $8 to $13 its
/// events (see [`EVENTS`]).
async fn run(
    conn: &mut PgConnection,
    sql: &str,
    new: &NewMessage<'_>,
    dialog_id: Uuid,
    author_id: Uuid,
    channel: Option<&str>,
) -> sqlx::Result<Option<Stored>> {
    let ids = EventIds::new();
    let rows = sqlx::query(sql)
        .bind(new.account_id)
        .bind(dialog_id)
        .bind(author_id)
        .bind(Uuid::now_v7())
        .bind(new.client_message_id)
        .bind(new.text)
        .bind(channel)
        .bind(ids.created)
        .bind(MESSAGE_CREATED)
        .bind(ids.messenger_reply)
        .bind(MESSENGER_REPLY_CREATED)
        .bind(messengers())
        .bind(&ids.trace_json)
        .fetch_all(conn)
        .await?;
    ids.stored(&rows)
}

/// The outbox rows of the message `m`, from parameters $8 to $13: every
/// message's [`MESSAGE_CREATED`], and for a manager's reply through a
/// messenger [`MESSENGER_REPLY_CREATED`] too (as [`events::message_stored`]).
const EVENTS: &str = "e as ( \
         insert into outbox (event_id, subject, ref_id, headers) \
         select k.event_id, k.subject, m.id, $13 from m cross join \
             (values (1, $8::uuid, $9::text), (2, $10::uuid, $11::text)) as k(n, event_id, subject) \
         where k.n = 1 or (m.author_kind = 'manager' and m.channel = any($12::text[])) \
         order by k.n \
         returning seq, subject \
     )";
/// The message, its contact, and its events' rows (a row each).
const STORED: &str = "select m.*, d.contact_id as dialog_contact_id, \
         e.seq as outbox_seq, e.subject as outbox_subject \
     from m cross join d cross join e order by e.seq";

/// The channels whose messages leave through a messenger.
fn messengers() -> Vec<&'static str> {
    (0..16)
        .filter_map(|n| Channel::try_from(n).ok())
        .filter(|c| c.is_messenger())
        .map(Channel::word)
        .collect()
}

/// The ids of the events a statement may write, chosen before it runs, and
/// the trace they continue.
struct EventIds {
    created: Uuid,
    messenger_reply: Uuid,
    trace: HashMap<String, String>,
    trace_json: serde_json::Value,
}

impl EventIds {
    /// In the current span, whose trace the events continue.
    fn new() -> EventIds {
        let trace = NewEvent::new(Uuid::nil(), MESSAGE_CREATED, Vec::new()).trace;
        EventIds {
            created: Uuid::now_v7(),
            messenger_reply: Uuid::now_v7(),
            trace_json: serde_json::to_value(&trace).unwrap_or_default(),
            trace,
        }
    }

    /// The message and its events from the statement's rows; `None` when
    /// it wrote nothing.
    fn stored(&self, rows: &[PgRow]) -> sqlx::Result<Option<Stored>> {
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let message = MessageRow::from_row(first)?;
        let contact_id: Uuid = first.try_get("dialog_contact_id")?;
        let payload = events::message_created_payload(&message, contact_id);
        let mut stored = Vec::with_capacity(rows.len());
        for row in rows {
            let (event_type, event_id) = match row.try_get::<String, _>("outbox_subject")?.as_str()
            {
                MESSAGE_CREATED => (MESSAGE_CREATED, self.created),
                _ => (MESSENGER_REPLY_CREATED, self.messenger_reply),
            };
            stored.push(ReferencedEvent {
                seq: row.try_get("outbox_seq")?,
                event_id,
                event: NewEvent {
                    account_id: message.account_id,
                    event_type,
                    payload: payload.clone(),
                    trace: self.trace.clone(),
                },
            });
        }
        Ok(Some(Stored {
            message,
            events: stored,
        }))
    }
}

/// Builds the events of outbox rows that name a message (those written
/// here) from the message, for the outbox's sweep: each of a message's
/// events carries the same payload.
pub struct MessageEvents;

impl Resolve for MessageEvents {
    fn resolve<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        message_ids: &'c [Uuid],
    ) -> BoxFuture<'c, sqlx::Result<BuiltEvents>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "select m.*, d.contact_id as dialog_contact_id \
                 from message m join dialog d on d.account_id = m.account_id and d.id = m.dialog_id \
                 where m.id = any($1)",
            )
            .bind(message_ids)
            .fetch_all(conn)
            .await?;
            let mut events = HashMap::with_capacity(rows.len());
            for row in rows {
                let message = MessageRow::from_row(&row)?;
                let contact_id: Uuid = row.try_get("dialog_contact_id")?;
                let payload = events::message_created_payload(&message, contact_id);
                events.insert(message.id, (message.account_id, payload));
            }
            Ok(events)
        })
    }
}
