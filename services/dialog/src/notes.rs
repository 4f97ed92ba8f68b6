//! Notes on a dialog: the account's managers write them for each other. They
//! are not messages (no sequence number) and their event is for managers'
//! sockets only, so they never reach a visitor, a messenger or an e-mail.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use chat_platform::cursor::Keyset;
use chat_proto::dialog::v1 as pb;
use chat_proto::time::to_proto;

use crate::error::{Error, Result};
use crate::messages::MAX_TEXT_CHARS;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoteRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub dialog_id: Uuid,
    pub author_id: Uuid,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

const NOTE_COLUMNS: &str = "id, account_id, dialog_id, author_id, text, created_at";

/// Longest client note id, in characters.
pub const MAX_CLIENT_NOTE_ID_CHARS: usize = 64;

/// A client note id: empty (none), or 1 to 64 characters without NUL.
pub fn check_client_id(client_note_id: &str) -> Result<()> {
    if client_note_id.contains('\0') || client_note_id.chars().count() > MAX_CLIENT_NOTE_ID_CHARS {
        return Err(Error::field(
            "client_note_id",
            format!("must be 1 to {MAX_CLIENT_NOTE_ID_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A note's text: 1 to 4096 characters, not all blank, no NUL.
pub fn check_text(text: &str) -> Result<()> {
    if text.contains('\0') {
        return Err(Error::field("text", "contains a NUL character"));
    }
    if text.trim().is_empty() {
        return Err(Error::field("text", "is empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::field(
            "text",
            format!("is longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A note to add.
pub struct NewNote<'a> {
    pub account_id: Uuid,
    pub dialog_id: Uuid,
    pub author_id: Uuid,
    pub text: &'a str,
    /// Empty: none.
    pub client_note_id: &'a str,
}

/// What became of a note.
pub enum Added {
    Stored(NoteRow),
    /// Its author sent this client id before: the note stored then.
    Duplicate(NoteRow),
    /// No such dialog in the account.
    NoDialog,
}

/// Adds the note to a dialog of the account, once per client note id.
pub async fn insert(conn: &mut PgConnection, new: &NewNote<'_>) -> sqlx::Result<Added> {
    let client_id = (!new.client_note_id.is_empty()).then_some(new.client_note_id);
    let stored: Option<NoteRow> = sqlx::query_as(&format!(
        "insert into note (id, account_id, dialog_id, author_id, text, client_note_id) \
         select $1, account_id, id, $4, $5, $6 from dialog where account_id = $2 and id = $3 \
         on conflict (dialog_id, author_id, client_note_id) where client_note_id is not null \
         do nothing returning {NOTE_COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(new.account_id)
    .bind(new.dialog_id)
    .bind(new.author_id)
    .bind(new.text)
    .bind(client_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(note) = stored {
        return Ok(Added::Stored(note));
    }
    let earlier: Option<NoteRow> = sqlx::query_as(&format!(
        "select {NOTE_COLUMNS} from note where account_id = $1 and dialog_id = $2 \
         and author_id = $3 and client_note_id = $4"
    ))
    .bind(new.account_id)
    .bind(new.dialog_id)
    .bind(new.author_id)
    .bind(client_id)
    .fetch_optional(conn)
    .await?;
    Ok(earlier.map_or(Added::NoDialog, Added::Duplicate))
}

/// Oldest first, keyset by (created_at, id).
pub async fn list(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
    after: Option<Keyset>,
    limit: i64,
) -> sqlx::Result<Vec<NoteRow>> {
    sqlx::query_as(&format!(
        "select {NOTE_COLUMNS} from note where account_id = $1 and dialog_id = $2 \
           and ($3::timestamptz is null or (created_at, id) > ($3, $4)) \
         order by created_at, id limit $5"
    ))
    .bind(account_id)
    .bind(dialog_id)
    .bind(after.map(|a| a.at))
    .bind(after.map(|a| a.id))
    .bind(limit)
    .fetch_all(pool)
    .await
}

impl From<NoteRow> for pb::Note {
    fn from(n: NoteRow) -> Self {
        Self {
            id: n.id.to_string(),
            account_id: n.account_id.to_string(),
            dialog_id: n.dialog_id.to_string(),
            author_id: n.author_id.to_string(),
            text: n.text,
            created_at: Some(to_proto(n.created_at)),
        }
    }
}
