//! A visitor's message that arrives alone, written by one statement: it
//! locks the visitor's open dialog, inserts the message with the next
//! number, moves the dialog to it and writes the message's event into the
//! outbox, and commits on its own. That is one round trip to PostgreSQL
//! instead of four (begin, the message, its event, commit).
//!
//! The event's row in the outbox names the message rather than carrying
//! it: the message's number and time are only known inside the statement.
//! The relay publishes the event built here at once; should the service die
//! before that, the outbox's sweep builds the same event from the message
//! ([`MessageEvents`]), under the same event id, so JetStream keeps one.
//!
//! Anything else (a dialog to open or reopen, a manager's reply, which may
//! take the dialog and marks it read, or posts arriving together) goes the
//! way of [`crate::writer`]'s transactions; when the statement finds the
//! dialog is not an open one of this visitor, or the message already there,
//! it writes nothing and the post goes that way too.

use std::collections::HashMap;

use futures::future::BoxFuture;
use sqlx::{FromRow as _, PgConnection, Row as _};
use uuid::Uuid;

use chat_platform::outbox::{NewEvent, ReferencedEvent, Resolve};

use crate::db::{MESSAGE_COLUMNS, MessageRow, NewMessage, PREVIEW_CHARS};
use crate::events::{self, MESSAGE_CREATED};

/// A visitor's message stored alone, with its event.
pub struct Stored {
    pub message: MessageRow,
    /// The event, for the relay to publish at once.
    pub event: ReferencedEvent,
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
    let event = NewEvent::new(new.account_id, MESSAGE_CREATED, Vec::new());
    let event_id = Uuid::now_v7();
    let trace = serde_json::to_value(&event.trace).unwrap_or_default();
    let sql = format!(
        "with d as ( \
             select id, last_seq + 1 as next_seq, updated_at from dialog \
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
         ), e as ( \
             insert into outbox (event_id, subject, ref_id, headers) \
             select $8, $9, m.id, $10 from m \
             returning seq \
         ) \
         select m.*, e.seq as outbox_seq from m cross join e"
    );
    let row = sqlx::query(&sql)
        .bind(new.account_id)
        .bind(dialog_id)
        .bind(contact_id)
        .bind(Uuid::now_v7())
        .bind(new.client_message_id)
        .bind(new.text)
        .bind(channel)
        .bind(event_id)
        .bind(MESSAGE_CREATED)
        .bind(trace)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let message = MessageRow::from_row(&row)?;
    let event = ReferencedEvent {
        seq: row.try_get("outbox_seq")?,
        event_id,
        event: NewEvent {
            payload: events::message_created_payload(&message, contact_id),
            ..event
        },
    };
    Ok(Some(Stored { message, event }))
}

/// Builds the events of outbox rows that name a message (those written by
/// [`append_visitor_message`]) from the message, for the outbox's sweep.
pub struct MessageEvents;

impl Resolve for MessageEvents {
    fn resolve<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        message_ids: &'c [Uuid],
    ) -> BoxFuture<'c, sqlx::Result<HashMap<Uuid, (Uuid, Vec<u8>)>>> {
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
