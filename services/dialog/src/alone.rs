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
use sqlx::{FromRow as _, PgConnection, Row as _};
use uuid::Uuid;

use chat_platform::outbox::{BuiltEvents, NewEvent, ReferencedEvent, Resolve};
use chat_proto::dialog::v1::Channel;

use crate::db::{MessageRow, NewMessage, PREVIEW_CHARS};
use crate::events::{self, MESSAGE_CREATED, MESSENGER_REPLY_CREATED};

/// A message stored alone, with its events.
pub struct Stored {
    pub message: MessageRow,
    /// Its events, for the relay to publish at once.
    pub events: Vec<ReferencedEvent>,
}

/// One of the statements below, checked at compile time: `$head` (the
/// CTEs `d`, `m` and `moved`, and for a reply `marked`), then the message's
/// events' rows in the outbox and the answer, a row per event. $1 to $7
/// are the message (its account, dialog, author, new id, client id, text
/// and channel), $8 to $13 its events: every message's [`MESSAGE_CREATED`],
/// and for a manager's reply through a messenger [`MESSENGER_REPLY_CREATED`]
/// too (as [`events::message_stored`]); $14 the preview's length.
macro_rules! lone_statement {
    ($head:tt, $new:expr, $dialog_id:expr, $author_id:expr, $channel:expr, $ids:expr) => {
        sqlx::query_as!(
            StoredRow,
            $head
                + "e as ( \
                     insert into outbox (event_id, subject, ref_id, headers) \
                     select k.event_id, k.subject, m.id, $13 from m cross join \
                         (values (1, $8::uuid, $9::text), (2, $10::uuid, $11::text)) \
                             as k(n, event_id, subject) \
                     where k.n = 1 or (m.author_kind = 'manager' and m.channel = any($12::text[])) \
                     order by k.n \
                     returning seq, subject \
                 ) \
                 select m.id as \"id!\", m.account_id as \"account_id!\", \
                     m.dialog_id as \"dialog_id!\", m.seq as \"seq!\", \
                     m.author_kind as \"author_kind!\", m.author_id as \"author_id?\", \
                     m.client_message_id as \"client_message_id!\", m.text as \"text!\", \
                     m.channel as \"channel!\", m.delivery_state as \"delivery_state!\", \
                     m.created_at as \"created_at!\", m.delivery_error as \"delivery_error!\", \
                     d.contact_id as \"dialog_contact_id!\", e.seq as \"outbox_seq!\", \
                     e.subject as \"outbox_subject!\" \
                 from m cross join d cross join e order by e.seq",
            $new.account_id,
            $dialog_id,
            $author_id,
            Uuid::now_v7(),
            $new.client_message_id,
            $new.text,
            $channel,
            $ids.created,
            MESSAGE_CREATED,
            $ids.messenger_reply,
            MESSENGER_REPLY_CREATED,
            &messengers() as &[&str],
            &$ids.trace_json,
            PREVIEW_CHARS
        )
    };
}

/// A row of what a statement above stored: the message, its dialog's
/// contact, and one of its events' rows in the outbox.
struct StoredRow {
    id: Uuid,
    account_id: Uuid,
    dialog_id: Uuid,
    seq: i64,
    author_kind: String,
    author_id: Option<Uuid>,
    client_message_id: String,
    text: String,
    channel: String,
    delivery_state: String,
    created_at: chrono::DateTime<chrono::Utc>,
    delivery_error: String,
    dialog_contact_id: Uuid,
    outbox_seq: i64,
    outbox_subject: String,
}

impl StoredRow {
    fn into_message(self) -> MessageRow {
        MessageRow {
            id: self.id,
            account_id: self.account_id,
            dialog_id: self.dialog_id,
            seq: self.seq,
            author_kind: self.author_kind,
            author_id: self.author_id,
            client_message_id: self.client_message_id,
            text: self.text,
            channel: self.channel,
            delivery_state: self.delivery_state,
            created_at: self.created_at,
            delivery_error: self.delivery_error,
            // Written alone: a visitor's or manager's message, never a system
            // line, and without files.
            system: None,
            attachments: None,
        }
    }
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
    let ids = EventIds::new();
    let rows = lone_statement!(
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
             returning * \
         ), moved as ( \
             update dialog set last_seq = m.seq, last_message_text = left(m.text, $14), \
                 last_message_at = m.created_at, updated_at = m.created_at, \
                 inbound_count = inbound_count + 1, last_inbound_channel = m.channel, \
                 inbound_channels = case when m.channel = any(dialog.inbound_channels) \
                     then dialog.inbound_channels else dialog.inbound_channels || m.channel end \
             from m where dialog.account_id = m.account_id and dialog.id = m.dialog_id \
         ), ",
        new,
        dialog_id,
        contact_id,
        Some(channel),
        ids
    )
    .fetch_all(conn)
    .await?;
    ids.stored(rows)
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
    let ids = EventIds::new();
    let rows = lone_statement!(
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
             returning * \
         ), moved as ( \
             update dialog set last_seq = m.seq, last_message_text = left(m.text, $14), \
                 last_message_at = m.created_at, updated_at = m.created_at \
             from m where dialog.account_id = m.account_id and dialog.id = m.dialog_id \
         ), marked as ( \
             insert into dialog_read as r (account_id, dialog_id, manager_id, read_seq, inbound_read) \
             select $1, m.dialog_id, $3, m.seq, d.inbound_count from m cross join d \
             on conflict (dialog_id, manager_id) do update \
                 set read_seq = excluded.read_seq, inbound_read = excluded.inbound_read, \
                     updated_at = now() \
                 where r.read_seq < excluded.read_seq \
         ), ",
        new,
        dialog_id,
        manager_id,
        new.channel,
        ids
    )
    .fetch_all(conn)
    .await?;
    ids.stored(rows)
}

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
    fn stored(&self, rows: Vec<StoredRow>) -> sqlx::Result<Option<Stored>> {
        // Each row's event; the first row's message, taken whole.
        let written: Vec<(i64, bool)> = rows
            .iter()
            .map(|row| (row.outbox_seq, row.outbox_subject == MESSAGE_CREATED))
            .collect();
        let Some(first) = rows.into_iter().next() else {
            return Ok(None);
        };
        let contact_id = first.dialog_contact_id;
        let message = first.into_message();
        let payload = events::message_created_payload(&message, contact_id);
        let mut stored = Vec::with_capacity(written.len());
        for (seq, created) in written {
            let (event_type, event_id) = match created {
                true => (MESSAGE_CREATED, self.created),
                false => (MESSENGER_REPLY_CREATED, self.messenger_reply),
            };
            stored.push(ReferencedEvent {
                seq,
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
