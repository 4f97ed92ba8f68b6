//! SQL of the dialog service. Every query is scoped by `account_id`.

use chat_platform::cursor::Keyset;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use chat_proto::dialog::v1 as pb;
use chat_proto::time::to_proto;

use crate::files::Attachment;

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
    pub contact_name: String,
    pub inbound_count: i64,
    /// The channels the contact has written from, in the order first used.
    pub inbound_channels: Vec<String>,
    /// The one they wrote from last: where a reply goes by default.
    pub last_inbound_channel: String,
    /// The contact's e-mail address; while known, managers may answer by e-mail.
    pub contact_email: String,
    /// Visitor messages after the viewing manager's read position (0 where
    /// no manager is viewing).
    pub unread_count: i64,
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
    pub delivery_error: String,
    /// A system line's record of what it says; `None` on other messages.
    pub system: Option<Json<SystemLine>>,
    /// The files it carries; `None` when it carries none.
    pub attachments: Option<Json<Vec<Attachment>>>,
}

/// What a system line records, as the gateway named it: kept beside the
/// line's English text so each reader can word it in their own language.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SystemLine {
    /// `took`, `assigned`, `returned`, `closed`, `spam` or `reopened`.
    pub kind: String,
    /// The manager who did it.
    pub actor_name: String,
    /// Who has the dialog after `took` and `assigned`; else empty.
    pub manager_name: String,
}

/// `sqlx::query_as!` of [`DialogRow`]s, checked at compile time: `$before`,
/// a dialog's columns of `dialog d` without a viewer (`unread_count` 0),
/// then `$after`, each a string literal.
macro_rules! dialog_rows {
    ($before:tt, $after:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            DialogRow,
            $before
                + "d.id, d.account_id, d.contact_id, d.status, d.manager_id, d.last_seq, \
                   d.last_message_text, d.last_message_at, d.created_at, d.updated_at, \
                   d.contact_name, d.inbound_count, d.inbound_channels, d.last_inbound_channel, \
                   d.contact_email, 0::bigint as \"unread_count!\""
                + $after
            $(, $arg)*
        )
    };
}

/// `sqlx::query_as!` of [`MessageRow`]s, checked at compile time: `$before`,
/// a message's columns of `message`, then `$after`.
macro_rules! message_rows {
    ($before:tt, $after:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            MessageRow,
            $before
                + "id, account_id, dialog_id, seq, author_kind, author_id, client_message_id, \
                   text, channel, delivery_state, created_at, delivery_error, \
                   system as \"system: Json<SystemLine>\", \
                   attachments as \"attachments: Json<Vec<Attachment>>\""
                + $after
            $(, $arg)*
        )
    };
}

/// A dialog's columns as a manager sees them, of `dialog d left join
/// dialog_read r` (for the lists, built at run time).
const VIEWED_DIALOG_COLUMNS: &str = "d.id, d.account_id, d.contact_id, d.status, d.manager_id, \
     d.last_seq, d.last_message_text, d.last_message_at, d.created_at, d.updated_at, \
     d.contact_name, d.inbound_count, d.inbound_channels, d.last_inbound_channel, \
     d.contact_email, d.inbound_count - coalesce(r.inbound_read, 0) as unread_count";

/// Where a new message goes: a dialog by id (a visitor may name only their
/// own), or the contact's dialog (opened if they have none).
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Dialog {
        dialog_id: Uuid,
        visitor: Option<Uuid>,
    },
    DialogOf {
        contact_id: Uuid,
    },
}

/// Opens a dialog for the contact, empty, for its first message to go into,
/// with the name given, else the one the contact service told (and the
/// address it told);
/// `None` when another transaction opened one first (the unique key
/// decides), in which case the message goes into that one.
pub async fn insert_open_dialog(
    conn: &mut PgConnection,
    account_id: Uuid,
    contact_id: Uuid,
    contact_name: &str,
) -> sqlx::Result<Option<DialogRow>> {
    // The contact's row first, locked until this transaction ends: the
    // consumer of contact_updated writing it meanwhile waits for the dialog
    // to be committed, and then puts the details on it too; one that wrote
    // first is seen by the next statement.
    sqlx::query!(
        "insert into contact_details (account_id, contact_id) values ($1, $2) \
         on conflict do nothing",
        account_id,
        contact_id
    )
    .execute(&mut *conn)
    .await?;
    dialog_rows!(
        "insert into dialog as d (id, account_id, contact_id, status, contact_name, contact_email) \
         select $1, $2, $3, 'open', coalesce(nullif($4, ''), c.name, ''), coalesce(c.email, '') \
         from (select 1) as one left join contact_details c \
             on c.account_id = $2 and c.contact_id = $3 \
         on conflict on constraint dialog_contact_unique do nothing \
         returning ",
        "",
        Uuid::now_v7(),
        account_id,
        contact_id,
        contact_name
    )
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
    /// `None`: the channel the contact last wrote from.
    pub channel: Option<&'a str>,
    /// A system line's record of what it says.
    pub system: Option<&'a SystemLine>,
    /// The files it carries (none: empty).
    pub attachments: &'a [Attachment],
}

/// What became of a message added at the end of its dialog.
#[derive(Debug)]
pub enum Appended {
    /// Stored with the dialog's next number; the dialog as it is now, and
    /// whether the message reopened it.
    Stored(Box<MessageRow>, Box<DialogRow>, bool),
    /// Its client id is already in that dialog: nothing changed.
    Duplicate(Uuid),
    /// No such dialog in the account (or none open for the contact).
    NoDialog,
    /// A manager chose a channel the contact never wrote from; nothing
    /// changed. The dialog's id and the channels they did write from.
    Unreachable(Uuid, Vec<String>),
}

/// [`append_message`]'s statement, checked at compile time, for a dialog
/// found by `$which`: $1 the account, $2 the dialog's (or contact's) id, $3
/// the new message's id, $4 to $8 the message, $9 the preview's length,
/// $10 its system line's record, $11 its files, $12 the visitor's contact
/// where one writes. A message of files alone is previewed by the first
/// one's name. The time is taken once the
/// dialog is locked, and never before the dialog's last message, so later
/// numbers never get earlier times.
macro_rules! append_statement {
    ($which:tt, $account_id:expr, $key:expr, $new_id:expr, $fields:expr $(, $visitor:expr)?) => {
        sqlx::query_as!(
            AppendedRow,
            "with d as ( \
                 select id, contact_id, status, last_seq + 1 as next_seq, updated_at, \
                     last_inbound_channel, inbound_channels, contact_email from dialog \
                 where account_id = $1 and "
                + $which
                + " for update \
             ), m as ( \
                 insert into message (id, account_id, dialog_id, seq, author_kind, author_id, \
                     client_message_id, text, channel, delivery_state, created_at, system, \
                     attachments) \
                 select $3, $1, d.id, d.next_seq, $4, $5, $6, $7, \
                     coalesce($8, d.last_inbound_channel), 'stored', \
                     greatest(clock_timestamp(), d.updated_at), $10, $11 from d \
                 where $4 <> 'manager' or $8::text is null or $8 = any(d.inbound_channels) \
                     or ($8 = 'email' and d.contact_email <> '') \
                 on conflict on constraint message_client_id_unique do nothing \
                 returning * \
             ), moved as ( \
                 update dialog set last_seq = m.seq, last_message_text = left(case \
                         when m.text = '' and m.attachments is not null \
                         then '📎 ' || (m.attachments -> 0 ->> 'name') else m.text end, $9), \
                     last_message_at = m.created_at, updated_at = m.created_at, \
                     status = case when m.author_kind = 'system' then dialog.status else 'open' end, \
                     inbound_count = inbound_count + (m.author_kind = 'visitor')::int, \
                     last_inbound_channel = case when m.author_kind = 'visitor' then m.channel \
                         else dialog.last_inbound_channel end, \
                     inbound_channels = case when m.author_kind = 'visitor' \
                         and not m.channel = any(dialog.inbound_channels) \
                         then dialog.inbound_channels || m.channel else dialog.inbound_channels end \
                 from m where dialog.account_id = m.account_id and dialog.id = m.dialog_id \
                 returning dialog.status, dialog.manager_id, dialog.last_message_text, \
                     dialog.created_at, dialog.contact_name, dialog.inbound_count, \
                     dialog.inbound_channels, dialog.last_inbound_channel \
             ) \
             select d.id as \"found_dialog_id!\", d.contact_id as \"found_contact_id!\", \
                 d.status as \"prior_status!\", d.inbound_channels as \"prior_inbound_channels!\", \
                 d.contact_email as \"found_contact_email!\", \
                 m.id as \"id?\", m.account_id as \"account_id?\", m.dialog_id as \"dialog_id?\", \
                 m.seq as \"seq?\", m.author_kind as \"author_kind?\", m.author_id as \"author_id?\", \
                 m.client_message_id as \"client_message_id?\", m.text as \"text?\", \
                 m.channel as \"channel?\", m.delivery_state as \"delivery_state?\", \
                 m.created_at as \"created_at?\", m.delivery_error as \"delivery_error?\", \
                 m.system as \"system?: Json<SystemLine>\", \
                 m.attachments as \"attachments?: Json<Vec<Attachment>>\", \
                 moved.status as \"dialog_status?\", moved.manager_id as \"dialog_manager_id?\", \
                 moved.last_message_text as \"dialog_preview?\", \
                 moved.created_at as \"dialog_created_at?\", \
                 moved.contact_name as \"dialog_contact_name?\", \
                 moved.inbound_count as \"dialog_inbound_count?\", \
                 moved.inbound_channels as \"dialog_inbound_channels?\", \
                 moved.last_inbound_channel as \"dialog_last_inbound_channel?\" \
             from d left join m on true left join moved on true",
            $account_id,
            $key,
            $new_id,
            $fields.0,
            $fields.1,
            $fields.2,
            $fields.3,
            $fields.4,
            PREVIEW_CHARS,
            $fields.5 as _,
            $fields.6 as _
            $(, $visitor)?
        )
    };
}

/// What [`append_message`]'s statement found and did: the dialog as it was,
/// and, when the message was stored, the message and the dialog after.
struct AppendedRow {
    found_dialog_id: Uuid,
    found_contact_id: Uuid,
    prior_status: String,
    prior_inbound_channels: Vec<String>,
    found_contact_email: String,
    id: Option<Uuid>,
    account_id: Option<Uuid>,
    dialog_id: Option<Uuid>,
    seq: Option<i64>,
    author_kind: Option<String>,
    author_id: Option<Uuid>,
    client_message_id: Option<String>,
    text: Option<String>,
    channel: Option<String>,
    delivery_state: Option<String>,
    created_at: Option<DateTime<Utc>>,
    delivery_error: Option<String>,
    system: Option<Json<SystemLine>>,
    attachments: Option<Json<Vec<Attachment>>>,
    dialog_status: Option<String>,
    dialog_manager_id: Option<Uuid>,
    dialog_preview: Option<String>,
    dialog_created_at: Option<DateTime<Utc>>,
    dialog_contact_name: Option<String>,
    dialog_inbound_count: Option<i64>,
    dialog_inbound_channels: Option<Vec<String>>,
    dialog_last_inbound_channel: Option<String>,
}

/// The dialog as the statement found it, before the message.
struct Found {
    dialog_id: Uuid,
    contact_id: Uuid,
    status: String,
    inbound_channels: Vec<String>,
    contact_email: String,
}

/// The dialog after a message moved it.
struct Moved {
    status: String,
    manager_id: Option<Uuid>,
    preview: String,
    created_at: DateTime<Utc>,
    contact_name: String,
    inbound_count: i64,
    inbound_channels: Vec<String>,
    last_inbound_channel: String,
}

impl AppendedRow {
    /// The dialog as found, and the message stored with the dialog it
    /// moved; `None` when nothing was stored (the left joins found no
    /// message).
    fn split(self) -> (Found, Option<(MessageRow, Moved)>) {
        let found = Found {
            dialog_id: self.found_dialog_id,
            contact_id: self.found_contact_id,
            status: self.prior_status,
            inbound_channels: self.prior_inbound_channels,
            contact_email: self.found_contact_email,
        };
        let stored = (|| {
            let message = MessageRow {
                id: self.id?,
                account_id: self.account_id?,
                dialog_id: self.dialog_id?,
                seq: self.seq?,
                author_kind: self.author_kind?,
                author_id: self.author_id,
                client_message_id: self.client_message_id?,
                text: self.text?,
                channel: self.channel?,
                delivery_state: self.delivery_state?,
                created_at: self.created_at?,
                delivery_error: self.delivery_error?,
                system: self.system,
                attachments: self.attachments,
            };
            let moved = Moved {
                status: self.dialog_status?,
                manager_id: self.dialog_manager_id,
                preview: self.dialog_preview?,
                created_at: self.dialog_created_at?,
                contact_name: self.dialog_contact_name?,
                inbound_count: self.dialog_inbound_count?,
                inbound_channels: self.dialog_inbound_channels?,
                last_inbound_channel: self.dialog_last_inbound_channel?,
            };
            Some((message, moved))
        })();
        (found, stored)
    }
}

/// Adds the message at the end of its dialog in one statement: locks the
/// dialog, inserts the message with the next number (nothing when its client
/// id is there already) and moves the dialog's number and preview to it,
/// reopening it when it was closed (unless the message is a system one). A
/// manager's message goes out only through a channel the contact has written
/// from (or, with no channel given, the one they wrote from last), or by
/// e-mail while their address is known.
pub async fn append_message(conn: &mut PgConnection, m: &NewMessage<'_>) -> sqlx::Result<Appended> {
    let (account_id, new_id) = (m.account_id, Uuid::now_v7());
    let fields = (
        m.author_kind,
        m.author_id,
        m.client_message_id,
        m.text,
        m.channel,
        m.system.map(Json),
        (!m.attachments.is_empty()).then_some(Json(m.attachments)),
    );
    let found = match m.target {
        Target::Dialog {
            dialog_id,
            visitor: None,
        } => {
            append_statement!("id = $2", account_id, dialog_id, new_id, fields)
                .fetch_optional(conn)
                .await?
        }
        // A visitor writes only into their own dialog.
        Target::Dialog {
            dialog_id,
            visitor: Some(contact_id),
        } => {
            append_statement!(
                "id = $2 and contact_id = $12",
                account_id,
                dialog_id,
                new_id,
                fields,
                contact_id
            )
            .fetch_optional(conn)
            .await?
        }
        Target::DialogOf { contact_id } => {
            append_statement!("contact_id = $2", account_id, contact_id, new_id, fields)
                .fetch_optional(conn)
                .await?
        }
    };
    let Some(row) = found else {
        return Ok(Appended::NoDialog);
    };
    let (found, stored) = row.split();
    let dialog_id = found.dialog_id;
    let Some((message, moved)) = stored else {
        let mut reachable = found.inbound_channels;
        if !found.contact_email.is_empty() {
            reachable.push("email".into());
        }
        return Ok(match m.channel {
            Some(channel)
                if m.author_kind == "manager" && !reachable.iter().any(|c| c == channel) =>
            {
                Appended::Unreachable(dialog_id, reachable)
            }
            _ => Appended::Duplicate(dialog_id),
        });
    };
    let reopened = found.status != moved.status;
    let dialog = DialogRow {
        id: dialog_id,
        account_id: message.account_id,
        contact_id: found.contact_id,
        status: moved.status,
        manager_id: moved.manager_id,
        last_seq: message.seq,
        last_message_text: moved.preview,
        last_message_at: Some(message.created_at),
        created_at: moved.created_at,
        updated_at: message.created_at,
        contact_name: moved.contact_name,
        inbound_count: moved.inbound_count,
        inbound_channels: moved.inbound_channels,
        last_inbound_channel: moved.last_inbound_channel,
        contact_email: found.contact_email,
        unread_count: 0,
    };
    Ok(Appended::Stored(
        Box::new(message),
        Box::new(dialog),
        reopened,
    ))
}

pub async fn find_message_by_client_id(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    author_kind: &str,
    client_message_id: &str,
) -> sqlx::Result<Option<MessageRow>> {
    message_rows!(
        "select ",
        " from message where account_id = $1 and dialog_id = $2 \
         and author_kind = $3 and client_message_id = $4",
        account_id,
        dialog_id,
        author_kind,
        client_message_id
    )
    .fetch_optional(conn)
    .await
}

/// The dialog; `viewer` (a manager) gets their unread count on it.
pub async fn get_dialog(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
    viewer: Option<Uuid>,
) -> sqlx::Result<Option<DialogRow>> {
    sqlx::query_as!(
        DialogRow,
        r#"select d.id, d.account_id, d.contact_id, d.status, d.manager_id, d.last_seq,
               d.last_message_text, d.last_message_at, d.created_at, d.updated_at,
               d.contact_name, d.inbound_count, d.inbound_channels, d.last_inbound_channel,
               d.contact_email, d.inbound_count - coalesce(r.inbound_read, 0) as "unread_count!"
           from dialog d
           left join dialog_read r on r.dialog_id = d.id and r.manager_id = $3
           where d.account_id = $1 and d.id = $2"#,
        account_id,
        dialog_id,
        viewer
    )
    .fetch_optional(pool)
    .await
}

pub async fn find_contact_dialog(
    pool: &PgPool,
    account_id: Uuid,
    contact_id: Uuid,
) -> sqlx::Result<Option<DialogRow>> {
    dialog_rows!(
        "select ",
        " from dialog d where d.account_id = $1 and d.contact_id = $2",
        account_id,
        contact_id
    )
    .fetch_optional(pool)
    .await
}

/// Which dialogs a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Category {
    All,
    /// No manager yet.
    New,
    /// One manager's (the viewer's for "mine").
    Manager(Uuid),
    /// Every one that has a manager.
    Assigned,
    /// One contact's.
    Contact(Uuid),
}

/// Newest activity first; `status` of `None` lists every status. Each
/// combination is its own statement, so each is planned for its own index.
pub async fn list_dialogs(
    pool: &PgPool,
    account_id: Uuid,
    viewer: Option<Uuid>,
    category: Category,
    status: Option<&str>,
    after: Option<Keyset>,
    limit: i64,
) -> sqlx::Result<Vec<DialogRow>> {
    let (which, key) = match category {
        Category::All => ("", None),
        Category::New => (" and d.manager_id is null", None),
        Category::Assigned => (" and d.manager_id is not null", None),
        Category::Manager(id) => (" and d.manager_id = $7", Some(id)),
        Category::Contact(id) => (" and d.contact_id = $7", Some(id)),
    };
    let status_filter = if status.is_some() {
        " and d.status = $3"
    } else {
        " and $3::text is null"
    };
    let keyset = if after.is_some() {
        " and (d.updated_at, d.id) < ($4, $5)"
    } else {
        " and $4::timestamptz is null and $5::uuid is null"
    };
    let sql = format!(
        "select {VIEWED_DIALOG_COLUMNS} from dialog d \
         left join dialog_read r on r.dialog_id = d.id and r.manager_id = $2 \
         where d.account_id = $1{status_filter}{which}{keyset} \
         order by d.updated_at desc, d.id desc limit $6"
    );
    let mut query = sqlx::query_as(&sql)
        .bind(account_id)
        .bind(viewer)
        .bind(status)
        .bind(after.map(|c| c.at))
        .bind(after.map(|c| c.id))
        .bind(limit);
    if let Some(key) = key {
        query = query.bind(key);
    }
    query.fetch_all(pool).await
}

/// How many dialogs of the status each manager has (`None`: nobody, "new").
pub async fn count_dialogs_by_manager(
    pool: &PgPool,
    account_id: Uuid,
    status: Option<&str>,
) -> sqlx::Result<Vec<(Option<Uuid>, i64)>> {
    let counts = sqlx::query!(
        r#"select manager_id, count(*) as "count!" from dialog
           where account_id = $1 and ($2::text is null or status = $2) group by manager_id"#,
        account_id,
        status
    )
    .fetch_all(pool)
    .await?;
    Ok(counts
        .into_iter()
        .map(|c| (c.manager_id, c.count))
        .collect())
}

/// Hands the dialog to `manager_id` (or nobody); `None` when it is not in
/// the account or has that manager already.
pub async fn assign_dialog(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    manager_id: Option<Uuid>,
) -> sqlx::Result<Option<DialogRow>> {
    dialog_rows!(
        "update dialog d set manager_id = $3, updated_at = greatest(clock_timestamp(), d.updated_at) \
         where d.account_id = $1 and d.id = $2 and d.manager_id is distinct from $3 \
         returning ",
        "",
        account_id,
        dialog_id,
        manager_id
    )
    .fetch_optional(conn)
    .await
}

/// Gives a dialog without a manager to `manager_id` (a manager's first
/// reply takes it); `None` when it has one.
pub async fn take_dialog(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    manager_id: Uuid,
) -> sqlx::Result<Option<DialogRow>> {
    dialog_rows!(
        "update dialog d set manager_id = $3 \
         where d.account_id = $1 and d.id = $2 and d.manager_id is null \
         returning ",
        "",
        account_id,
        dialog_id,
        manager_id
    )
    .fetch_optional(conn)
    .await
}

/// Sets the status; `None` when it is not in the account or has it already.
pub async fn set_status(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    status: &str,
) -> sqlx::Result<Option<DialogRow>> {
    dialog_rows!(
        "update dialog d set status = $3, updated_at = greatest(clock_timestamp(), d.updated_at) \
         where d.account_id = $1 and d.id = $2 and d.status <> $3 \
         returning ",
        "",
        account_id,
        dialog_id,
        status
    )
    .fetch_optional(conn)
    .await
}

/// Moves the manager's read position to `seq` (capped at the dialog's last
/// message; never back). Returns the position and the unread count after.
pub async fn mark_read(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    manager_id: Uuid,
    seq: i64,
) -> sqlx::Result<Option<(i64, i64)>> {
    let read = sqlx::query!(
        "with d as ( \
             select id, inbound_count, least($4, last_seq) as upto from dialog \
             where account_id = $1 and id = $2 \
         ), upto as ( \
             select d.id, d.upto, d.inbound_count - (select count(*) from message m \
                 where m.account_id = $1 and m.dialog_id = d.id and m.seq > d.upto \
                   and m.author_kind = 'visitor') as inbound_read, d.inbound_count from d \
         ), saved as ( \
             insert into dialog_read as r (account_id, dialog_id, manager_id, read_seq, inbound_read) \
             select $1, id, $3, upto, inbound_read from upto \
             on conflict (dialog_id, manager_id) do update \
                 set read_seq = excluded.read_seq, inbound_read = excluded.inbound_read, updated_at = now() \
                 where r.read_seq < excluded.read_seq \
             returning read_seq, inbound_read \
         ) \
         select coalesce(s.read_seq, r.read_seq, 0) as \"read_seq!\", \
             upto.inbound_count - coalesce(s.inbound_read, r.inbound_read, 0) as \"unread!\" \
         from upto left join saved s on true \
         left join dialog_read r on r.dialog_id = upto.id and r.manager_id = $3",
        account_id,
        dialog_id,
        manager_id,
        seq
    )
    .fetch_optional(conn)
    .await?;
    Ok(read.map(|r| (r.read_seq, r.unread)))
}

/// Records that a manager has read everything up to their own new message.
pub async fn read_up_to_own_message(
    conn: &mut PgConnection,
    dialog: &DialogRow,
    manager_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into dialog_read as r (account_id, dialog_id, manager_id, read_seq, inbound_read) \
         values ($1, $2, $3, $4, $5) \
         on conflict (dialog_id, manager_id) do update \
             set read_seq = excluded.read_seq, inbound_read = excluded.inbound_read, updated_at = now() \
             where r.read_seq < excluded.read_seq",
        dialog.account_id,
        dialog.id,
        manager_id,
        dialog.last_seq,
        dialog.inbound_count
    )
    .execute(conn)
    .await
    .map(drop)
}

/// Keeps what the contact service told of contacts (name, e-mail), and puts
/// it on their dialogs, for lists and for answering by e-mail.
pub async fn set_contact_details(
    pool: &PgPool,
    accounts: &[Uuid],
    contacts: &[Uuid],
    names: &[String],
    emails: &[String],
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into contact_details (account_id, contact_id, name, email) \
         select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) \
         on conflict (account_id, contact_id) do update \
             set name = excluded.name, email = excluded.email",
        accounts,
        contacts,
        names,
        emails
    )
    .execute(pool)
    .await?;
    sqlx::query!(
        "update dialog d set contact_name = c.name, contact_email = c.email \
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) \
             as c(account_id, contact_id, name, email) \
         where d.account_id = c.account_id and d.contact_id = c.contact_id",
        accounts,
        contacts,
        names,
        emails
    )
    .execute(pool)
    .await
    .map(drop)
}

/// Records what became of a message that left through a messenger or by
/// e-mail; a final state stays (a late or repeated report changes nothing),
/// except that an e-mail can bounce after it was sent: `failed` then
/// replaces `emailed`, and `delivered` of a message by e-mail. The message
/// as it is now, and whether this report changed it; `None` when the
/// account has no such message.
pub async fn set_delivery_state(
    conn: &mut PgConnection,
    account_id: Uuid,
    message_id: Uuid,
    state: &str,
    error: &str,
) -> sqlx::Result<Option<(MessageRow, bool)>> {
    let changed: Option<MessageRow> = message_rows!(
        "update message set delivery_state = $3, delivery_error = $4 \
         where account_id = $1 and id = $2 and (delivery_state = 'stored' \
             or ($3 = 'failed' and (delivery_state = 'emailed' \
                 or (delivery_state = 'delivered' and channel = 'email')))) \
         returning ",
        "",
        account_id,
        message_id,
        state,
        error
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(message) = changed {
        return Ok(Some((message, true)));
    }
    let current: Option<MessageRow> = message_rows!(
        "select ",
        " from message where account_id = $1 and id = $2",
        account_id,
        message_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(current.map(|message| (message, false)))
}

/// Messages after `after_seq`, oldest first.
pub async fn messages_after(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
    after_seq: i64,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    message_rows!(
        "select ",
        " from message \
         where account_id = $1 and dialog_id = $2 and seq > $3 order by seq limit $4",
        account_id,
        dialog_id,
        after_seq,
        limit
    )
    .fetch_all(pool)
    .await
}

/// The newest messages before `before_seq` (and after `after_seq`),
/// returned oldest first.
pub async fn messages_before(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
    after_seq: i64,
    before_seq: i64,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    let mut rows: Vec<MessageRow> = message_rows!(
        "select ",
        " from message \
         where account_id = $1 and dialog_id = $2 and seq < $3 and seq > $4 \
         order by seq desc limit $5",
        account_id,
        dialog_id,
        before_seq,
        after_seq,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows)
}

impl From<DialogRow> for pb::Dialog {
    fn from(d: DialogRow) -> Self {
        Self {
            unread_count: d.unread_count,
            contact_name: d.contact_name,
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
            reply_channels: reply_channels(&d.inbound_channels, &d.contact_email),
            reply_channel: pb::Channel::from_word(&d.last_inbound_channel) as i32,
        }
    }
}

/// Where a manager may answer: every channel the contact wrote from, and
/// e-mail while their address is known.
fn reply_channels(inbound: &[String], contact_email: &str) -> Vec<i32> {
    let mut channels: Vec<i32> = inbound
        .iter()
        .map(|c| pb::Channel::from_word(c) as i32)
        .collect();
    let email = pb::Channel::Email as i32;
    if !contact_email.is_empty() && !channels.contains(&email) {
        channels.push(email);
    }
    channels
}

impl From<MessageRow> for pb::Message {
    fn from(m: MessageRow) -> Self {
        Self {
            id: m.id.to_string(),
            account_id: m.account_id.to_string(),
            dialog_id: m.dialog_id.to_string(),
            seq: m.seq,
            author_kind: pb::AuthorKind::from_word(&m.author_kind) as i32,
            author_id: m.author_id.map(|a| a.to_string()).unwrap_or_default(),
            client_message_id: m.client_message_id,
            text: m.text,
            channel: pb::Channel::from_word(&m.channel) as i32,
            delivery_state: pb::DeliveryState::from_word(&m.delivery_state) as i32,
            created_at: Some(to_proto(m.created_at)),
            delivery_error: m.delivery_error,
            system: m.system.map(|Json(line)| pb::SystemEvent {
                kind: line.kind,
                actor_name: line.actor_name,
                manager_name: line.manager_name,
            }),
            attachments: m
                .attachments
                .map(|Json(files)| files.into_iter().map(Into::into).collect())
                .unwrap_or_default(),
        }
    }
}
