//! Changes managers make to a dialog: assigning it, closing and reopening
//! it. Each change is written with a system message that records it in the
//! history (so the visitor and every manager see who did what) and with a
//! `dialog.dialog_updated` event, in one transaction. Asking for what is
//! already so changes nothing and records nothing. The system message keeps
//! what it records (a [`SystemLine`]) beside its English text, so readers
//! word it in their own language and visitors see only what is theirs.

use sqlx::PgPool;
use uuid::Uuid;

use chat_platform::outbox::Outbox;

use crate::db::{self, Appended, DialogRow, NewMessage, SystemLine, Target};
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

impl Change {
    /// The kinds of system line that may record this change.
    fn line_kinds(self) -> &'static [&'static str] {
        match self {
            Change::Assign(Some(_)) => &["took", "assigned"],
            Change::Assign(None) => &["returned"],
            Change::Close => &["closed", "spam"],
            Change::Reopen => &["reopened"],
        }
    }
}

/// Checks the record a change's system line keeps; `None` (a caller from
/// before it was kept) leaves the line to managers only.
fn check_line(change: Change, line: Option<&SystemLine>) -> Result<()> {
    let Some(line) = line else { return Ok(()) };
    if !change.line_kinds().contains(&line.kind.as_str()) {
        return Err(Error::field(
            "system.kind",
            format!("must be one of {:?} for this change", change.line_kinds()),
        ));
    }
    let named = ["took", "assigned"].contains(&line.kind.as_str());
    for (field, name, required) in [
        ("system.actor_name", &line.actor_name, true),
        ("system.manager_name", &line.manager_name, named),
    ] {
        let chars = name.chars().count();
        if (required && chars == 0) || (!required && chars > 0) || chars > MAX_NAME_CHARS {
            let rule = match required {
                true => format!("must be 1 to {MAX_NAME_CHARS} characters"),
                false => "must be empty for this kind".to_owned(),
            };
            return Err(Error::field(field, rule));
        }
    }
    Ok(())
}

/// The longest manager name a system line keeps.
const MAX_NAME_CHARS: usize = 200;

/// Applies the change; returns the dialog as it is after it.
pub async fn apply(
    pool: &PgPool,
    outbox: &Outbox,
    account_id: Uuid,
    dialog_id: Uuid,
    change: Change,
    system_text: &str,
    system: Option<&SystemLine>,
) -> Result<DialogRow> {
    let system_text = system_text.trim();
    if system_text.is_empty() || system_text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::InvalidArgument(format!(
            "system_text must be 1 to {MAX_TEXT_CHARS} characters"
        )));
    }
    check_line(change, system)?;
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
        system,
        attachments: &[],
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
