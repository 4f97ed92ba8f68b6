//! SQL of the contact service. Every query is scoped by `account_id`.

use chat_platform::cursor::Keyset;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use chat_proto::contact::v1 as pb;
use chat_proto::time::to_proto;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub visitor_id: Option<String>,
    pub name: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub phone: String,
    pub custom_fields: Json<BTreeMap<String, String>>,
    pub last_seen_at: DateTime<Utc>,
    pub email_verified: bool,
    /// A visitor of the site belongs to the contact (the `site` channel).
    pub on_site: bool,
    /// The messengers the contact wrote from, by name.
    pub messengers: Vec<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub kind: String,
    pub ref_id: String,
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
}

const CONTACT_COLUMNS: &str = "id, account_id, visitor_id, name, email, created_at, phone, \
     custom_fields, last_seen_at, email_verified, \
     (visitor_id is not null or exists (select 1 from visitor v where v.contact_id = id)) as on_site, \
     array(select i.channel from messenger_identity i where i.contact_id = id order by i.channel) \
         as messengers";

pub async fn find_by_visitor(
    pool: &PgPool,
    account_id: Uuid,
    visitor_id: &str,
) -> sqlx::Result<Option<ContactRow>> {
    sqlx::query_as(&format!(
        "select {CONTACT_COLUMNS} from contact where account_id = $1 and id = \
         (select contact_id from visitor where account_id = $1 and visitor_id = $2)"
    ))
    .bind(account_id)
    .bind(visitor_id)
    .fetch_optional(pool)
    .await
}

/// The contact of a messenger's user.
pub async fn find_by_messenger(
    pool: &PgPool,
    account_id: Uuid,
    user: &MessengerUser<'_>,
) -> sqlx::Result<Option<ContactRow>> {
    sqlx::query_as(&format!(
        "select {CONTACT_COLUMNS} from contact where account_id = $1 and id = \
         (select contact_id from messenger_identity \
          where account_id = $1 and channel = $2 and external_id = $3)"
    ))
    .bind(account_id)
    .bind(user.channel)
    .bind(user.external_id)
    .fetch_optional(pool)
    .await
}

/// Who writes through a messenger: the platform and its id of the person.
pub struct MessengerUser<'a> {
    pub channel: &'a str,
    pub external_id: &'a str,
}

/// Creates the contact of a messenger's user, named; `None` when another
/// call made it first (the identity's key decides, and nothing is left).
pub async fn insert_messenger_user(
    pool: &PgPool,
    account_id: Uuid,
    user: &MessengerUser<'_>,
    name: &str,
) -> sqlx::Result<Option<ContactRow>> {
    let mut tx = pool.begin().await?;
    let contact_id = sqlx::query_scalar!(
        "insert into contact (id, account_id, name) values ($1, $2, $3) returning id",
        Uuid::now_v7(),
        account_id,
        name
    )
    .fetch_one(&mut *tx)
    .await?;
    let claimed = sqlx::query!(
        "insert into messenger_identity (account_id, channel, external_id, contact_id) \
         values ($1, $2, $3, $4) on conflict do nothing",
        account_id,
        user.channel,
        user.external_id,
        contact_id
    )
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(None); // rolled back: the contact made above is gone
    }
    let contact = sqlx::query_as(&format!(
        "select {CONTACT_COLUMNS} from contact where account_id = $1 and id = $2"
    ))
    .bind(account_id)
    .bind(contact_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(contact))
}

/// Creates the visitor's contact; `None` when it exists already (the unique key decides).
/// A new contact `id` for a visitor; `None` when the visitor has one already.
pub async fn insert_visitor(
    pool: &PgPool,
    account_id: Uuid,
    visitor_id: &str,
    id: Uuid,
) -> sqlx::Result<Option<ContactRow>> {
    sqlx::query_as(&format!(
        "with created as (insert into contact (id, account_id, visitor_id) values ($1, $2, $3) \
             on conflict on constraint contact_visitor_unique do nothing returning *), \
         claimed as (insert into visitor (account_id, visitor_id, contact_id) \
             select account_id, visitor_id, id from created) \
         select {CONTACT_COLUMNS} from created"
    ))
    .bind(id)
    .bind(account_id)
    .bind(visitor_id)
    .fetch_optional(pool)
    .await
}

pub async fn get(
    pool: &PgPool,
    account_id: Uuid,
    contact_id: Uuid,
) -> sqlx::Result<Option<ContactRow>> {
    sqlx::query_as(&format!(
        "select {CONTACT_COLUMNS} from contact where account_id = $1 and id = $2"
    ))
    .bind(account_id)
    .bind(contact_id)
    .fetch_optional(pool)
    .await
}

/// Records that a visitor is here now.
pub async fn touch_seen(pool: &PgPool, account_id: Uuid, contact_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update contact set last_seen_at = now() where account_id = $1 and id = $2",
        account_id,
        contact_id
    )
    .execute(pool)
    .await
    .map(drop)
}

/// Writes the fields given (a `None` keeps the stored value); `None` when
/// the account has no such contact.
pub async fn update(
    conn: &mut PgConnection,
    account_id: Uuid,
    contact_id: Uuid,
    change: &crate::details::Change,
) -> sqlx::Result<Option<ContactRow>> {
    sqlx::query_as(&format!(
        "update contact set name = coalesce($3, name), email = coalesce($4, email), \
             phone = coalesce($5, phone), custom_fields = coalesce($6, custom_fields), \
             email_verified = email_verified and coalesce($4, email) = email, \
             updated_at = now() \
         where account_id = $1 and id = $2 returning {CONTACT_COLUMNS}"
    ))
    .bind(account_id)
    .bind(contact_id)
    .bind(change.name.as_deref())
    .bind(change.email.as_deref())
    .bind(change.phone.as_deref())
    .bind(change.custom_fields.as_ref().map(Json))
    .fetch_optional(conn)
    .await
}

/// Most contacts a search ranks: a fragment found in a hundred thousand
/// contacts (`gmail`) ranks the first this many the trigram index yields,
/// rather than sort them all; a narrower one ranks every match.
pub const SEARCH_CANDIDATES: i64 = 1000;

/// Contacts whose name, e-mail or phone contains `query` (any case), best
/// first: an exact e-mail, then the closest by trigram similarity, then the
/// most recently seen, among at most [`SEARCH_CANDIDATES`] matches. The
/// trigram index finds them among millions.
pub async fn search(
    pool: &PgPool,
    account_id: Uuid,
    query: &str,
    limit: i64,
) -> sqlx::Result<Vec<ContactRow>> {
    let needle = query.trim().to_lowercase();
    let pattern = format!("%{}%", like_escaped(&needle));
    sqlx::query_as(&format!(
        "select {CONTACT_COLUMNS} from ( \
             select * from contact where account_id = $1 and search_text like $2 \
             limit {SEARCH_CANDIDATES} \
         ) found \
         order by email = $3 desc, similarity(search_text, $3) desc, last_seen_at desc, id desc \
         limit $4"
    ))
    .bind(account_id)
    .bind(pattern)
    .bind(needle)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// `text` with LIKE's wildcards taken literally.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// What a visitor says of themselves: the fields given replace the stored
/// ones, except that an unverified e-mail never replaces a verified one.
pub async fn identify(
    conn: &mut PgConnection,
    account_id: Uuid,
    contact_id: Uuid,
    change: &crate::details::Change,
    email_verified: bool,
) -> sqlx::Result<ContactRow> {
    sqlx::query_as(&format!(
        "update contact set name = coalesce(nullif($3, ''), name), \
             phone = coalesce(nullif($5, ''), phone), \
             email = case when $4::text is null or $4 = '' or (email_verified and not $6) \
                 then email else $4 end, \
             email_verified = case when $4::text is null or $4 = '' or (email_verified and not $6) \
                 then email_verified else $6 end, \
             updated_at = now() \
         where account_id = $1 and id = $2 returning {CONTACT_COLUMNS}"
    ))
    .bind(account_id)
    .bind(contact_id)
    .bind(change.name.as_deref())
    .bind(change.email.as_deref())
    .bind(change.phone.as_deref())
    .bind(email_verified)
    .fetch_one(conn)
    .await
}

/// The contact (other than `except`) with this e-mail verified, the most
/// recently seen when there are several. Only verified ones: an e-mail a
/// visitor merely typed must not draw the real owner into their contact.
pub async fn find_by_email(
    conn: &mut PgConnection,
    account_id: Uuid,
    email: &str,
    except: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "select id from contact where account_id = $1 and lower(email) = lower($2) \
         and email_verified and id <> $3 order by last_seen_at desc limit 1",
        account_id,
        email,
        except
    )
    .fetch_optional(conn)
    .await
}

/// The visitor's contact, holding the visitor's row until the transaction ends.
pub async fn lock_visitor(
    conn: &mut PgConnection,
    account_id: Uuid,
    visitor_id: &str,
) -> sqlx::Result<Option<ContactRow>> {
    let locked = sqlx::query_scalar!(
        "select contact_id from visitor where account_id = $1 and visitor_id = $2 for update",
        account_id,
        visitor_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(contact_id) = locked else {
        return Ok(None);
    };
    sqlx::query_as(&format!(
        "select {CONTACT_COLUMNS} from contact where account_id = $1 and id = $2"
    ))
    .bind(account_id)
    .bind(contact_id)
    .fetch_optional(conn)
    .await
}

/// A contact of no visitor yet, for a verified e-mail seen for the first time.
pub async fn insert_contact(conn: &mut PgConnection, account_id: Uuid) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into contact (id, account_id) values ($1, $2) returning id",
        Uuid::now_v7(),
        account_id
    )
    .fetch_one(conn)
    .await
}

/// The visitor belongs to `contact_id` from now on.
pub async fn move_visitor(
    conn: &mut PgConnection,
    account_id: Uuid,
    visitor_id: &str,
    contact_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update visitor set contact_id = $3 where account_id = $1 and visitor_id = $2",
        account_id,
        visitor_id,
        contact_id
    )
    .execute(conn)
    .await
    .map(drop)
}

pub struct NewTimelineEvent {
    pub account_id: Uuid,
    pub contact_id: Uuid,
    pub kind: &'static str,
    pub ref_id: String,
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
}

/// Records the entries in one statement, each once: an entry pointing at
/// something already on the timeline is ignored. Returns how many were new.
pub async fn insert_timeline_events(
    pool: &PgPool,
    entries: &[NewTimelineEvent],
) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = entries.iter().map(|_| Uuid::now_v7()).collect();
    let accounts: Vec<Uuid> = entries.iter().map(|e| e.account_id).collect();
    let contacts: Vec<Uuid> = entries.iter().map(|e| e.contact_id).collect();
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind).collect();
    let refs: Vec<&str> = entries.iter().map(|e| e.ref_id.as_str()).collect();
    let summaries: Vec<&str> = entries.iter().map(|e| e.summary.as_str()).collect();
    let times: Vec<DateTime<Utc>> = entries.iter().map(|e| e.occurred_at).collect();
    let done = sqlx::query!(
        "insert into timeline_event (id, account_id, contact_id, kind, ref_id, summary, occurred_at) \
         select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) \
         on conflict on constraint timeline_event_ref_unique do nothing",
        &ids,
        &accounts,
        &contacts,
        &kinds as &[&str],
        &refs as &[&str],
        &summaries as &[&str],
        &times
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Newest first, keyset by (occurred_at, id); `kind` of `None`: every kind.
/// Never a message: a copy an older build's consumer may still write during
/// a rollout is not shown (the gateway reads messages from the dialog service).
pub async fn list_timeline(
    pool: &PgPool,
    account_id: Uuid,
    contact_id: Uuid,
    kind: Option<&str>,
    after: Option<Keyset>,
    limit: i64,
) -> sqlx::Result<Vec<TimelineRow>> {
    sqlx::query_as!(
        TimelineRow,
        "select id, contact_id, kind, ref_id, summary, occurred_at from timeline_event \
         where account_id = $1 and contact_id = $2 and ($6::text is null or kind = $6) \
           and kind <> 'message' \
           and ($3::timestamptz is null or (occurred_at, id) < ($3, $4)) \
         order by occurred_at desc, id desc limit $5",
        account_id,
        contact_id,
        after.map(|a| a.at),
        after.map(|a| a.id),
        limit,
        kind
    )
    .fetch_all(pool)
    .await
}

impl From<ContactRow> for pb::Contact {
    fn from(c: ContactRow) -> Self {
        let mut channels = Vec::new();
        if c.on_site {
            channels.push("site".to_owned());
        }
        if !c.email.is_empty() {
            channels.push("email".to_owned());
        }
        channels.extend(c.messengers);
        Self {
            id: c.id.to_string(),
            account_id: c.account_id.to_string(),
            visitor_id: c.visitor_id.unwrap_or_default(),
            name: c.name,
            email: c.email,
            created_at: Some(to_proto(c.created_at)),
            phone: c.phone,
            custom_fields: c.custom_fields.0.into_iter().collect(),
            first_seen_at: Some(to_proto(c.created_at)),
            last_seen_at: Some(to_proto(c.last_seen_at)),
            channels,
            email_verified: c.email_verified,
        }
    }
}

impl From<TimelineRow> for pb::TimelineEvent {
    fn from(t: TimelineRow) -> Self {
        Self {
            id: t.id.to_string(),
            contact_id: t.contact_id.to_string(),
            kind: t.kind,
            ref_id: t.ref_id,
            summary: t.summary,
            occurred_at: Some(to_proto(t.occurred_at)),
        }
    }
}
