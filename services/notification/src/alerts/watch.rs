//! Follows the dialog service's events into what alerts and replies need: a
//! visitor's message waits for its dialog's alert (until a manager
//! answers), a manager's reply through the site chat or by e-mail waits to
//! be settled (seen by an open widget, or e-mailed), a dialog keeps its
//! contact and manager, a manager's read position moves. Every write is
//! keyed, so an event handled twice changes nothing more.
//!
//! Events come in batches, one transaction each. Visitors' messages, the
//! bulk of them, are written together at the batch's end (one statement
//! for all, one for their dialogs' contacts): what a manager's answer in
//! the same batch settled is then not held, as it would not have been had
//! each been written in its turn (a held message is kept only above its
//! dialog's answered position).

use std::time::Duration;

use prost::Message as _;
use sqlx::{PgConnection, PgPool};

use chat_platform::Shutdown;
use chat_platform::bus::{BATCH_LINGER, Batches, Bus, HandlerError};
use chat_platform::events::{
    DIALOG_CREATED, DIALOG_READ, DIALOG_UPDATED, MESSAGE_CREATED, MessageCreated, id,
};
use chat_proto::dialog::v1 as pb;
use chat_proto::events::v1 as ev;

use crate::db::alerts::{self, DialogState, ToHold, Unalerted};
use crate::db::replies::{self, Unsent};

/// How long the events' effects wait.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    /// A visitor's messages this close together make one alert.
    pub alert_window: Duration,
    /// A site-chat reply is settled this long after it (the visitor may be
    /// between two pages); a reply by e-mail at once.
    pub reply_grace: Duration,
}

pub const ALERTS_CONSUMER: &str = "notification_alerts";
/// The consumer that kept a per-dialog record of who wrote last, which
/// nothing read; retired at start.
pub const RETIRED_ACTIVITY_CONSUMER: &str = "notification_activity";
/// Most events handled in one transaction.
const MAX_BATCH: usize = 256;

pub async fn follow(bus: Bus, pool: PgPool, waits: Waits, shutdown: Shutdown) {
    bus.consume_batches(
        ALERTS_CONSUMER,
        &[MESSAGE_CREATED, DIALOG_CREATED, DIALOG_UPDATED, DIALOG_READ],
        Batches::lingering(MAX_BATCH, BATCH_LINGER),
        shutdown,
        |envelopes| {
            let pool = pool.clone();
            async move {
                let mut tx = pool.begin().await?;
                let mut batch = Batch::default();
                for envelope in &envelopes {
                    handle(&mut tx, envelope, waits, &mut batch).await?;
                }
                alerts::hold_all(&mut tx, &batch.to_hold, waits.alert_window).await?;
                alerts::set_contacts(&mut tx, &batch.contacts).await?;
                tx.commit().await?;
                Ok(())
            }
        },
    )
    .await;
}

/// What a batch's messages write together at its end.
#[derive(Default)]
struct Batch {
    to_hold: Vec<ToHold>,
    /// `(account, dialog, contact)` as the messages name them.
    contacts: Vec<(uuid::Uuid, uuid::Uuid, uuid::Uuid)>,
}

async fn handle(
    conn: &mut PgConnection,
    envelope: &ev::Envelope,
    waits: Waits,
    batch: &mut Batch,
) -> Result<(), HandlerError> {
    let account_id = id(&envelope.account_id)?;
    let payload = envelope.payload.as_slice();
    let permanent = |e: prost::DecodeError| HandlerError::Permanent(e.into());
    match envelope.r#type.as_str() {
        MESSAGE_CREATED => {
            let MessageCreated {
                message,
                contact_id,
            } = MessageCreated::decode(envelope)?;
            let dialog_id = id(&message.dialog_id)?;
            let created_at = message
                .created_at
                .as_ref()
                .map(chat_proto::time::from_proto)
                .unwrap_or_else(chrono::Utc::now);
            match message.author_kind() {
                pb::AuthorKind::Visitor => {
                    batch.to_hold.push(ToHold {
                        account_id,
                        dialog_id,
                        message: Unalerted {
                            seq: message.seq,
                            text: message.text_with_files(),
                            created_at,
                        },
                    });
                    batch.contacts.push((account_id, dialog_id, contact_id));
                }
                pb::AuthorKind::Manager => {
                    alerts::answered(conn, account_id, dialog_id, message.seq).await?;
                    let channel = message.channel();
                    let wait = match channel {
                        pb::Channel::Email => Duration::ZERO,
                        pb::Channel::Site | pb::Channel::Unspecified => waits.reply_grace,
                        // Messengers deliver their own (the bridge).
                        _ => return Ok(()),
                    };
                    let reply = Unsent {
                        seq: message.seq,
                        message_id: id(&message.id)?,
                        channel: channel.word().to_owned(),
                        manager_id: id(&message.author_id).ok(),
                        text: message.text_with_files(),
                        created_at,
                    };
                    replies::hold(conn, account_id, dialog_id, &reply, wait).await?;
                    batch.contacts.push((account_id, dialog_id, contact_id));
                }
                _ => {}
            }
        }
        DIALOG_CREATED => {
            let dialog = ev::DialogCreated::decode(payload)
                .map_err(permanent)?
                .dialog;
            set_dialog(conn, account_id, dialog.unwrap_or_default()).await?;
        }
        DIALOG_UPDATED => {
            let dialog = ev::DialogUpdated::decode(payload)
                .map_err(permanent)?
                .dialog;
            set_dialog(conn, account_id, dialog.unwrap_or_default()).await?;
        }
        DIALOG_READ => {
            let read = ev::DialogRead::decode(payload).map_err(permanent)?;
            let (dialog_id, manager_id) = (id(&read.dialog_id)?, id(&read.manager_id)?);
            alerts::mark_read(conn, account_id, dialog_id, manager_id, read.seq).await?;
        }
        _ => {}
    }
    Ok(())
}

async fn set_dialog(
    conn: &mut PgConnection,
    account_id: uuid::Uuid,
    dialog: pb::Dialog,
) -> Result<(), HandlerError> {
    let state = DialogState {
        contact_id: Some(id(&dialog.contact_id)?),
        contact_name: dialog.contact_name,
        manager_id: match dialog.manager_id.is_empty() {
            true => None,
            false => Some(id(&dialog.manager_id)?),
        },
    };
    alerts::set_dialog(conn, account_id, id(&dialog.id)?, &state).await?;
    Ok(())
}
