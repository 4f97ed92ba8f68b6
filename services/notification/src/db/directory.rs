//! The managers the service writes to (the gateway's, as its events told),
//! each one's choices, and how the account's e-mails are signed.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A manager as the gateway last described them.
#[derive(Debug, Clone)]
pub struct ManagerChange {
    pub account_id: Uuid,
    pub manager_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub signed_up: bool,
    pub version: i64,
    pub shop_name: String,
    /// The console's language they chose; empty: none.
    pub language: String,
    /// The shop's widget language; empty: not told.
    pub shop_language: String,
}

/// Keeps the change unless a newer one was applied; the manager's own
/// choices stay as they are.
pub async fn apply(conn: &mut PgConnection, change: &ManagerChange) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into manager (account_id, manager_id, email, name, role, active, signed_up, \
             version, language) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         on conflict (account_id, manager_id) do update set \
             email = excluded.email, name = excluded.name, role = excluded.role, \
             active = excluded.active, signed_up = excluded.signed_up, \
             version = excluded.version, language = excluded.language, updated_at = now() \
         where manager.version < excluded.version",
        change.account_id,
        change.manager_id,
        change.email,
        change.name,
        change.role,
        change.active,
        change.signed_up,
        change.version,
        change.language
    )
    .execute(&mut *conn)
    .await?;
    if !change.shop_name.is_empty() {
        sqlx::query!(
            "insert into account_mail (account_id, shop_name, language) values ($1, $2, $3) \
             on conflict (account_id) do update set shop_name = excluded.shop_name, \
                 language = case when excluded.language = '' then account_mail.language \
                     else excluded.language end, \
                 updated_at = now()",
            change.account_id,
            change.shop_name,
            change.shop_language
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A manager's name, if the service has heard of them.
pub async fn manager_name(
    conn: &mut PgConnection,
    account_id: Uuid,
    manager_id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select name from manager where account_id = $1 and manager_id = $2",
        account_id,
        manager_id
    )
    .fetch_optional(conn)
    .await
}

/// Someone an alert may go to, and how.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub manager_id: Uuid,
    pub email: String,
    pub name: String,
    /// Wants e-mail (and has an address).
    pub by_email: bool,
    pub by_push: bool,
    /// Names them in their alerts' one-click unsubscribe link.
    pub unsubscribe_token: Uuid,
    /// The language of their e-mails; empty: English.
    pub language: String,
}

/// The account's managers who want an alert and can act on it: active,
/// signed up, with e-mail (and an address) or push on; only `manager_id`
/// when given.
pub async fn alert_recipients(
    conn: &mut PgConnection,
    account_id: Uuid,
    manager_id: Option<Uuid>,
) -> sqlx::Result<Vec<Recipient>> {
    sqlx::query_as!(
        Recipient,
        "select manager_id, email, name, (email_on and email <> '') as \"by_email!\", \
             push_on as by_push, unsubscribe_token, language from manager \
         where account_id = $1 and ($2::uuid is null or manager_id = $2) \
             and active and signed_up and ((email_on and email <> '') or push_on) \
         order by manager_id",
        account_id,
        manager_id
    )
    .fetch_all(conn)
    .await
}

/// Turns off the alert e-mails of the manager whose unsubscribe link holds
/// `token`; their address, or `None` when no manager has that token.
pub async fn unsubscribe(pool: &PgPool, token: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "update manager set email_on = false, updated_at = now() \
         where unsubscribe_token = $1 returning email",
        token
    )
    .fetch_optional(pool)
    .await
}

/// A manager's own choices and where their e-mail goes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Preferences {
    pub email_on: bool,
    pub push_on: bool,
    pub email: String,
}

/// The manager's choices: the defaults (both on) until they chose.
pub async fn preferences(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
) -> sqlx::Result<Preferences> {
    let found = sqlx::query_as!(
        Preferences,
        "select email_on, push_on, email from manager where account_id = $1 and manager_id = $2",
        account_id,
        manager_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(found.unwrap_or(Preferences {
        email_on: true,
        push_on: true,
        email: String::new(),
    }))
}

/// Sets what is given (before the gateway's event about the manager, if it
/// comes first: that one then fills the rest and keeps these).
pub async fn set_preferences(
    pool: &PgPool,
    account_id: Uuid,
    manager_id: Uuid,
    email_on: Option<bool>,
    push_on: Option<bool>,
) -> sqlx::Result<Preferences> {
    sqlx::query_as!(
        Preferences,
        "insert into manager (account_id, manager_id, email_on, push_on) \
         values ($1, $2, coalesce($3, true), coalesce($4, true)) \
         on conflict (account_id, manager_id) do update set \
             email_on = coalesce($3, manager.email_on), push_on = coalesce($4, manager.push_on), \
             updated_at = now() \
         returning email_on, push_on, email",
        account_id,
        manager_id,
        email_on,
        push_on
    )
    .fetch_one(pool)
    .await
}

/// How the account's e-mails are signed.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct AccountMail {
    pub shop_name: String,
    pub sender_name: String,
    pub reply_to: String,
    /// The shop's site, linked from e-mails to visitors.
    pub shop_url: String,
    /// The shop's widget language, of its e-mails to visitors; empty: English.
    pub language: String,
}

impl AccountMail {
    /// The name e-mails come from: the one set, else the shop's.
    pub fn from_name(&self) -> &str {
        self.from_name_or(&self.shop_name)
    }

    /// The name set, else `fallback`.
    pub fn from_name_or<'a>(&'a self, fallback: &'a str) -> &'a str {
        match self.sender_name.is_empty() {
            true => fallback,
            false => &self.sender_name,
        }
    }
}

pub async fn account_mail(conn: &mut PgConnection, account_id: Uuid) -> sqlx::Result<AccountMail> {
    let found = sqlx::query_as!(
        AccountMail,
        "select shop_name, sender_name, reply_to, shop_url, language from account_mail \
         where account_id = $1",
        account_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.unwrap_or_default())
}

/// What an owner changes of the account's mail; `None` keeps a field.
#[derive(Debug, Default)]
pub struct AccountMailChange<'a> {
    pub sender_name: Option<&'a str>,
    pub reply_to: Option<&'a str>,
    pub shop_url: Option<&'a str>,
}

pub async fn set_account_mail(
    pool: &PgPool,
    account_id: Uuid,
    change: &AccountMailChange<'_>,
) -> sqlx::Result<AccountMail> {
    sqlx::query_as!(
        AccountMail,
        "insert into account_mail (account_id, sender_name, reply_to, shop_url) \
         values ($1, coalesce($2, ''), coalesce($3, ''), coalesce($4, '')) \
         on conflict (account_id) do update set \
             sender_name = coalesce($2, account_mail.sender_name), \
             reply_to = coalesce($3, account_mail.reply_to), \
             shop_url = coalesce($4, account_mail.shop_url), updated_at = now() \
         returning shop_name, sender_name, reply_to, shop_url, language",
        account_id,
        change.sender_name,
        change.reply_to,
        change.shop_url
    )
    .fetch_one(pool)
    .await
}
