//! The e-mail log: every e-mail is written here before it is sent, and the
//! sender takes its work from here. A row's `dedupe_key` names the event and
//! the recipient, so an event handled twice records one e-mail.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// An e-mail to record.
#[derive(Debug, Clone)]
pub struct NewEmail {
    pub account_id: Uuid,
    pub dedupe_key: String,
    pub kind: &'static str,
    pub manager_id: Option<Uuid>,
    pub to_address: String,
    pub from_name: String,
    pub reply_to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub headers: serde_json::Value,
    /// For e-mails carrying messages of a dialog (replies to a visitor):
    /// which, and through which channel each went (`site` or `email`).
    pub dialog_id: Option<Uuid>,
    pub message_ids: Vec<Uuid>,
    pub message_channels: Vec<String>,
}

/// Records the e-mail with `id` (its Message-ID is made from it); `false`
/// when one with the same key was recorded before.
pub async fn record(
    conn: &mut PgConnection,
    id: Uuid,
    message_id: &str,
    email: &NewEmail,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into email (id, account_id, dedupe_key, kind, manager_id, to_address, from_name, \
             reply_to, subject, text_body, html_body, message_id, headers, dialog_id, \
             message_ids, message_channels, states_recorded) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             cardinality($15::uuid[]) = 0) \
         on conflict (dedupe_key) do nothing",
        id,
        email.account_id,
        email.dedupe_key,
        email.kind,
        email.manager_id,
        email.to_address,
        email.from_name,
        email.reply_to,
        email.subject,
        email.text_body,
        email.html_body,
        message_id,
        email.headers,
        email.dialog_id,
        &email.message_ids,
        &email.message_channels
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An e-mail taken for sending.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outgoing {
    pub id: Uuid,
    pub account_id: Uuid,
    pub to_address: String,
    pub from_name: String,
    pub reply_to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub message_id: String,
    pub headers: serde_json::Value,
    pub attempts: i32,
    /// When it leaves by the shop's own SMTP server: the version of that
    /// server's settings (when they were saved).
    pub shop_server: Option<DateTime<Utc>>,
}

/// Takes up to `limit` e-mails due for a try, and those whose sender died
/// mid-send (claim run out), claiming them for `claim_secs`. E-mails of
/// `shop_server_kind` name their shop's own server, when it has one.
pub async fn claim(
    pool: &PgPool,
    limit: i64,
    claim_secs: f64,
    shop_server_kind: &str,
) -> sqlx::Result<Vec<Outgoing>> {
    sqlx::query_as!(
        Outgoing,
        "update email set status = 'sending', attempts = attempts + 1, \
             claimed_until = now() + make_interval(secs => $2) \
         where id in (select id from email \
             where (status = 'pending' and next_attempt_at <= now()) \
                or (status = 'sending' and claimed_until < now()) \
             order by next_attempt_at limit $1 for update skip locked) \
         returning id, account_id, to_address, from_name, reply_to, subject, text_body, \
             html_body, message_id, headers, attempts, \
             (select s.updated_at from account_smtp s \
              where s.account_id = email.account_id and email.kind = $3) as \"shop_server?\"",
        limit,
        claim_secs,
        shop_server_kind
    )
    .fetch_all(pool)
    .await
}

pub async fn sent(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update email set status = 'sent', sent_at = now(), claimed_until = null, \
             last_error = '' where id = $1",
        id
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A try failed and another comes at `next_attempt_at`.
pub async fn retry_at(
    pool: &PgPool,
    id: Uuid,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update email set status = 'pending', next_attempt_at = $2, claimed_until = null, \
             last_error = $3 where id = $1",
        id,
        next_attempt_at,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The e-mail will never go: the server refused it for good, or it ran out of tries.
pub async fn failed(pool: &PgPool, id: Uuid, error: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update email set status = 'failed', claimed_until = null, last_error = $2 where id = $1",
        id,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A report came that the sent e-mail `id` could not be delivered: it is
/// `bounced`, with the report's words, and the messages it carried are told
/// so. Whether this changed it (a second report does not).
pub async fn bounced(pool: &PgPool, id: Uuid, failure: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update email set status = 'bounced', last_error = $2, states_recorded = false \
         where id = $1 and status = 'sent'",
        id,
        failure
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Why the manager's latest e-mail failed for good or bounced, if it did (a
/// later one that was sent clears it).
pub async fn manager_failure(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
) -> sqlx::Result<Option<String>> {
    let latest = sqlx::query!(
        "select status, last_error from email \
         where account_id = $1 and manager_id = $2 and status in ('sent', 'failed', 'bounced') \
         order by created_at desc limit 1",
        account_id,
        manager_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(latest
        .filter(|row| row.status != "sent")
        .map(|row| row.last_error))
}

/// An e-mail that carried a dialog's messages, sent or failed for good,
/// whose outcome the dialog service has not been told.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Untold {
    pub id: Uuid,
    pub account_id: Uuid,
    pub status: String,
    pub last_error: String,
    pub message_ids: Vec<Uuid>,
    pub message_channels: Vec<String>,
}

pub async fn untold(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Untold>> {
    sqlx::query_as!(
        Untold,
        "select id, account_id, status, last_error, message_ids, message_channels from email \
         where not states_recorded and status in ('sent', 'failed', 'bounced') \
         order by created_at limit $1",
        limit
    )
    .fetch_all(pool)
    .await
}

pub async fn told(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("update email set states_recorded = true where id = $1", id)
        .execute(pool)
        .await?;
    Ok(())
}
