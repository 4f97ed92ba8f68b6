//! Changes managers make to a dialog: assigning it, closing and reopening
//! it. Each change is written with a system message that records it in the
//! history (so the visitor and every manager see who did what) and with a
//! `dialog.dialog_updated` event, in one transaction. Asking for what is
//! already so changes nothing and records nothing.

use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::outbox::Outbox;

use crate::db::{self, Appended, DialogRow, NewMessage, Target};
use crate::error::{Error, Result};
use crate::events;
use crate::messages::MAX_TEXT_CHARS;

/// The change asked for.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    Assign(Option<Uuid>),
    Close,
    Reopen,
}

/// Applies the change; returns the dialog as it is after it.
pub async fn apply(
    pool: &PgPool,
    outbox: &Outbox,
    account_id: Uuid,
    dialog_id: Uuid,
    change: Change,
    system_text: &str,
) -> Result<DialogRow> {
    let system_text = system_text.trim();
    if system_text.is_empty() || system_text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::InvalidArgument(format!(
            "system_text must be 1 to {MAX_TEXT_CHARS} characters"
        )));
    }
    let mut tx = pool.begin().await?;
    let (changed, kind) = match change {
        Change::Assign(manager_id) => (
            db::assign_dialog(&mut tx, account_id, dialog_id, manager_id).await?,
            events::ASSIGNED,
        ),
        Change::Close => (
            db::set_status(&mut tx, account_id, dialog_id, "closed").await?,
            events::CLOSED,
        ),
        Change::Reopen => (
            db::set_status(&mut tx, account_id, dialog_id, "open").await?,
            events::REOPENED,
        ),
    };
    if changed.is_none() {
        drop(tx);
        // Not in the account, or already so.
        return db::get_dialog(pool, account_id, dialog_id, None)
            .await?
            .ok_or(Error::NotFound("dialog"));
    }
    let record = NewMessage {
        account_id,
        target: Target::Dialog {
            dialog_id,
            visitor: None,
        },
        author_kind: "system",
        author_id: None,
        client_message_id: &Uuid::now_v7().to_string(),
        text: system_text,
        channel: Some("site"),
    };
    let Appended::Stored(message, dialog, _) = db::append_message(&mut tx, &record).await? else {
        return Err(Error::NotFound("dialog"));
    };
    let published = vec![
        events::message_created(&message, dialog.contact_id),
        events::dialog_updated(&dialog, kind),
    ];
    let staged = outbox.enqueue_all(&mut tx, published).await?;
    tx.commit().await?;
    outbox.committed(staged);
    Ok(*dialog)
}
