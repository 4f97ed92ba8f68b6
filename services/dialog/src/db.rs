//! SQL of the dialog service. Every query is scoped by `account_id`.

use chat_platform::cursor::Keyset;
use chrono::{DateTime, Utc};
use sqlx::{FromRow as _, PgConnection, PgPool, Row as _};
use uuid::Uuid;

use chat_proto::dialog::v1 as pb;
use chat_proto::time::to_proto;

/// Longest preview of the newest message kept on the dialog, in characters.
pub const PREVIEW_CHARS: i32 = 200;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DialogRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub contact_id: Uuid,
    pub status: String,
    pub manager_id: Option<Uuid>,
    pub last_seq: i64,
    pub last_message_text: String,
    pub last_message_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub dialog_id: Uuid,
    pub seq: i64,
    pub author_kind: String,
    pub author_id: Option<Uuid>,
    pub client_message_id: String,
    pub text: String,
    pub channel: String,
    pub delivery_state: String,
    pub created_at: DateTime<Utc>,
}

const DIALOG_COLUMNS: &str = "id, account_id, contact_id, status, manager_id, last_seq, \
     last_message_text, last_message_at, created_at, updated_at";
const MESSAGE_COLUMNS: &str = "id, account_id, dialog_id, seq, author_kind, author_id, \
     client_message_id, text, channel, delivery_state, created_at";

/// Where a new message goes: a dialog by id (a visitor may name only their
/// own), or the contact's open dialog.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Dialog {
        dialog_id: Uuid,
        visitor: Option<Uuid>,
    },
    OpenDialogOf {
        contact_id: Uuid,
    },
}

/// Opens a dialog for the contact, empty, for its first message to go into;
/// `None` when another transaction opened one first (the partial unique
/// index decides), in which case the message goes into that one.
pub async fn insert_open_dialog(
    conn: &mut PgConnection,
    account_id: Uuid,
    contact_id: Uuid,
) -> sqlx::Result<Option<DialogRow>> {
    sqlx::query_as(&format!(
        "insert into dialog (id, account_id, contact_id, status) values ($1, $2, $3, 'open') \
         on conflict (account_id, contact_id) where status = 'open' do nothing \
         returning {DIALOG_COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(account_id)
    .bind(contact_id)
    .fetch_optional(conn)
    .await
}

/// A message to add at the end of its dialog.
pub struct NewMessage<'a> {
    pub account_id: Uuid,
    pub target: Target,
    pub author_kind: &'a str,
    pub author_id: Option<Uuid>,
    pub client_message_id: &'a str,
    pub text: &'a str,
    pub channel: &'a str,
}

/// What became of a message added at the end of its dialog.
#[derive(Debug)]
pub enum Appended {
    /// Stored with the dialog's next number; the dialog as it is now.
    Stored(Box<MessageRow>, Box<DialogRow>),
    /// Its client id is already in that dialog: nothing changed.
    Duplicate(Uuid),
    /// No such dialog in the account (or none open for the contact).
    NoDialog,
}

/// Adds the message at the end of its dialog in one statement: locks the
/// dialog, inserts the message with the next number (nothing when its client
/// id is there already) and moves the dialog's number and preview to it.
pub async fn append_message(conn: &mut PgConnection, m: &NewMessage<'_>) -> sqlx::Result<Appended> {
    let (key, which, visitor) = match m.target {
        Target::Dialog {
            dialog_id,
            visitor: None,
        } => (dialog_id, "id = $2", None),
        // A visitor writes only into their own dialog.
        Target::Dialog {
            dialog_id,
            visitor: Some(contact_id),
        } => (dialog_id, "id = $2 and contact_id = $9", Some(contact_id)),
        Target::OpenDialogOf { contact_id } => {
            (contact_id, "contact_id = $2 and status = 'open'", None)
        }
    };
    // The time is taken once the dialog is locked, and never before the
    // dialog's last message, so later numbers never get earlier times.
    let sql = format!(
        "with d as ( \
             select id, contact_id, last_seq + 1 as next_seq, updated_at from dialog \
             where account_id = $1 and {which} for update \
         ), m as ( \
             insert into message (id, account_id, dialog_id, seq, author_kind, author_id, \
                 client_message_id, text, channel, delivery_state, created_at) \
             select $3, $1, d.id, d.next_seq, $4, $5, $6, $7, $8, 'stored', \
                 greatest(clock_timestamp(), d.updated_at) from d \
             on conflict on constraint message_client_id_unique do nothing \
             returning {MESSAGE_COLUMNS} \
         ), moved as ( \
             update dialog set last_seq = m.seq, last_message_text = left(m.text, {PREVIEW_CHARS}), \
                 last_message_at = m.created_at, updated_at = m.created_at \
             from m where dialog.account_id = m.account_id and dialog.id = m.dialog_id \
             returning dialog.status as dialog_status, dialog.manager_id as dialog_manager_id, \
                 dialog.last_message_text as dialog_preview, dialog.created_at as dialog_created_at \
         ) \
         select d.id as found_dialog_id, d.contact_id as found_contact_id, m.*, moved.* \
         from d left join m on true left join moved on true"
    );
    let mut query = sqlx::query(&sql)
        .bind(m.account_id)
        .bind(key)
        .bind(Uuid::now_v7())
        .bind(m.author_kind)
        .bind(m.author_id)
        .bind(m.client_message_id)
        .bind(m.text)
        .bind(m.channel);
    if let Some(contact_id) = visitor {
        query = query.bind(contact_id);
    }
    let Some(row) = query.fetch_optional(conn).await? else {
        return Ok(Appended::NoDialog);
    };
    let dialog_id: Uuid = row.try_get("found_dialog_id")?;
    if row.try_get::<Option<Uuid>, _>("id")?.is_none() {
        return Ok(Appended::Duplicate(dialog_id));
    }
    let message = MessageRow::from_row(&row)?;
    let dialog = DialogRow {
        id: dialog_id,
        account_id: message.account_id,
        contact_id: row.try_get("found_contact_id")?,
        status: row.try_get("dialog_status")?,
        manager_id: row.try_get("dialog_manager_id")?,
        last_seq: message.seq,
        last_message_text: row.try_get("dialog_preview")?,
        last_message_at: Some(message.created_at),
        created_at: row.try_get("dialog_created_at")?,
        updated_at: message.created_at,
    };
    Ok(Appended::Stored(Box::new(message), Box::new(dialog)))
}

pub async fn find_message_by_client_id(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    author_kind: &str,
    client_message_id: &str,
) -> sqlx::Result<Option<MessageRow>> {
    sqlx::query_as(&format!(
        "select {MESSAGE_COLUMNS} from message where account_id = $1 and dialog_id = $2 \
         and author_kind = $3 and client_message_id = $4"
    ))
    .bind(account_id)
    .bind(dialog_id)
    .bind(author_kind)
    .bind(client_message_id)
    .fetch_optional(conn)
    .await
}

pub async fn get_dialog(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
) -> sqlx::Result<Option<DialogRow>> {
    sqlx::query_as(&format!(
        "select {DIALOG_COLUMNS} from dialog where account_id = $1 and id = $2"
    ))
    .bind(account_id)
    .bind(dialog_id)
    .fetch_optional(pool)
    .await
}

pub async fn find_open_dialog(
    pool: &PgPool,
    account_id: Uuid,
    contact_id: Uuid,
) -> sqlx::Result<Option<DialogRow>> {
    sqlx::query_as(&format!(
        "select {DIALOG_COLUMNS} from dialog \
         where account_id = $1 and contact_id = $2 and status = 'open'"
    ))
    .bind(account_id)
    .bind(contact_id)
    .fetch_optional(pool)
    .await
}

/// Newest activity first; `status` of `None` lists every status.
pub async fn list_dialogs(
    pool: &PgPool,
    account_id: Uuid,
    status: Option<&str>,
    after: Option<Keyset>,
    limit: i64,
) -> sqlx::Result<Vec<DialogRow>> {
    sqlx::query_as(&format!(
        "select {DIALOG_COLUMNS} from dialog \
         where account_id = $1 and ($2::text is null or status = $2) \
           and ($3::timestamptz is null or (updated_at, id) < ($3, $4)) \
         order by updated_at desc, id desc limit $5"
    ))
    .bind(account_id)
    .bind(status)
    .bind(after.map(|c| c.at))
    .bind(after.map(|c| c.id))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Messages after `after_seq`, oldest first.
pub async fn messages_after(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
    after_seq: i64,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    sqlx::query_as(&format!(
        "select {MESSAGE_COLUMNS} from message \
         where account_id = $1 and dialog_id = $2 and seq > $3 order by seq limit $4"
    ))
    .bind(account_id)
    .bind(dialog_id)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The newest messages before `before_seq`, returned oldest first.
pub async fn messages_before(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
    before_seq: i64,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    let mut rows: Vec<MessageRow> = sqlx::query_as(&format!(
        "select {MESSAGE_COLUMNS} from message \
         where account_id = $1 and dialog_id = $2 and seq < $3 order by seq desc limit $4"
    ))
    .bind(account_id)
    .bind(dialog_id)
    .bind(before_seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows)
}

impl From<DialogRow> for pb::Dialog {
    fn from(d: DialogRow) -> Self {
        Self {
            id: d.id.to_string(),
            account_id: d.account_id.to_string(),
            contact_id: d.contact_id.to_string(),
            status: match d.status.as_str() {
                "open" => pb::DialogStatus::Open,
                _ => pb::DialogStatus::Closed,
            } as i32,
            manager_id: d.manager_id.map(|m| m.to_string()).unwrap_or_default(),
            last_seq: d.last_seq,
            created_at: Some(to_proto(d.created_at)),
            last_message_at: d.last_message_at.map(to_proto),
            last_message_text: d.last_message_text,
        }
    }
}

impl From<MessageRow> for pb::Message {
    fn from(m: MessageRow) -> Self {
        Self {
            id: m.id.to_string(),
            account_id: m.account_id.to_string(),
            dialog_id: m.dialog_id.to_string(),
            seq: m.seq,
            author_kind: author_kind_from_db(&m.author_kind) as i32,
            author_id: m.author_id.map(|a| a.to_string()).unwrap_or_default(),
            client_message_id: m.client_message_id,
            text: m.text,
            channel: channel_from_db(&m.channel) as i32,
            delivery_state: match m.delivery_state.as_str() {
                "delivered" => pb::DeliveryState::Delivered,
                "failed" => pb::DeliveryState::Failed,
                _ => pb::DeliveryState::Stored,
            } as i32,
            created_at: Some(to_proto(m.created_at)),
        }
    }
}

pub fn author_kind_to_db(kind: pb::AuthorKind) -> Option<&'static str> {
    match kind {
        pb::AuthorKind::Visitor => Some("visitor"),
        pb::AuthorKind::Manager => Some("manager"),
        pb::AuthorKind::System => Some("system"),
        pb::AuthorKind::Unspecified => None,
    }
}

fn author_kind_from_db(kind: &str) -> pb::AuthorKind {
    match kind {
        "visitor" => pb::AuthorKind::Visitor,
        "manager" => pb::AuthorKind::Manager,
        _ => pb::AuthorKind::System,
    }
}

pub fn channel_to_db(channel: pb::Channel) -> &'static str {
    match channel {
        pb::Channel::Unspecified | pb::Channel::Site => "site",
        pb::Channel::Email => "email",
        pb::Channel::Telegram => "telegram",
        pb::Channel::Vk => "vk",
        pb::Channel::Facebook => "facebook",
    }
}

fn channel_from_db(channel: &str) -> pb::Channel {
    match channel {
        "email" => pb::Channel::Email,
        "telegram" => pb::Channel::Telegram,
        "vk" => pb::Channel::Vk,
        "facebook" => pb::Channel::Facebook,
        _ => pb::Channel::Site,
    }
}
