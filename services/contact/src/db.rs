//! SQL of the contact service. Every query is scoped by `account_id`.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
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

const CONTACT_COLUMNS: &str = "id, account_id, visitor_id, name, email, created_at";

pub async fn find_by_visitor(
    pool: &PgPool,
    account_id: Uuid,
    visitor_id: &str,
) -> sqlx::Result<Option<ContactRow>> {
    sqlx::query_as(&format!(
        "select {CONTACT_COLUMNS} from contact where account_id = $1 and visitor_id = $2"
    ))
    .bind(account_id)
    .bind(visitor_id)
    .fetch_optional(pool)
    .await
}

/// Creates the visitor's contact; `None` when it exists already (the unique key decides).
pub async fn insert_visitor(
    pool: &PgPool,
    account_id: Uuid,
    visitor_id: &str,
) -> sqlx::Result<Option<ContactRow>> {
    sqlx::query_as(&format!(
        "insert into contact (id, account_id, visitor_id) values ($1, $2, $3) \
         on conflict on constraint contact_visitor_unique do nothing returning {CONTACT_COLUMNS}"
    ))
    .bind(Uuid::now_v7())
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

pub struct NewTimelineEvent<'a> {
    pub account_id: Uuid,
    pub contact_id: Uuid,
    pub kind: &'a str,
    pub ref_id: &'a str,
    pub summary: &'a str,
    pub occurred_at: DateTime<Utc>,
}

/// Records the entry once: a second one pointing at the same thing is ignored.
pub async fn insert_timeline_event(pool: &PgPool, e: &NewTimelineEvent<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "insert into timeline_event (id, account_id, contact_id, kind, ref_id, summary, occurred_at) \
         values ($1, $2, $3, $4, $5, $6, $7) on conflict on constraint timeline_event_ref_unique do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(e.account_id)
    .bind(e.contact_id)
    .bind(e.kind)
    .bind(e.ref_id)
    .bind(e.summary)
    .bind(e.occurred_at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Newest first, keyset by (occurred_at, id).
pub async fn list_timeline(
    pool: &PgPool,
    account_id: Uuid,
    contact_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<TimelineRow>> {
    sqlx::query_as(
        "select id, contact_id, kind, ref_id, summary, occurred_at from timeline_event \
         where account_id = $1 and contact_id = $2 \
           and ($3::timestamptz is null or (occurred_at, id) < ($3, $4)) \
         order by occurred_at desc, id desc limit $5",
    )
    .bind(account_id)
    .bind(contact_id)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
}

impl From<ContactRow> for pb::Contact {
    fn from(c: ContactRow) -> Self {
        Self {
            id: c.id.to_string(),
            account_id: c.account_id.to_string(),
            visitor_id: c.visitor_id.unwrap_or_default(),
            name: c.name,
            email: c.email,
            created_at: Some(to_proto(c.created_at)),
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
