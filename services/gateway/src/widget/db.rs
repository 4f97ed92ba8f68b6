//! SQL of the widget's settings and photos. Every query is scoped by the
//! account; a save stores the settings and the photo change in one
//! transaction.

use sqlx::PgPool;
use uuid::Uuid;

use super::settings::{PhotoChange, Settings, Valid};

const SELECT: &str = "select a.id as account_id, a.site_key, a.visitor_key, a.identity_secret, \
     s.enabled, s.manager_sound, s.visitor_sound, s.position, s.color, s.online_title, \
     s.online_message, s.offline_title, s.offline_message, s.hidden_pages, s.allowed_origins, \
     s.photo_name, s.language, s.language_from_browser, s.updated_at \
     from account a join widget_settings s on s.account_id = a.id";

pub async fn by_account(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Settings> {
    sqlx::query_as(&format!("{SELECT} where a.id = $1"))
        .bind(account_id)
        .fetch_one(pool)
        .await
}

pub async fn by_site_key(pool: &PgPool, site_key: &str) -> sqlx::Result<Option<Settings>> {
    if site_key.contains('\0') || site_key.len() > 200 {
        return Ok(None); // no key is like that
    }
    sqlx::query_as(&format!("{SELECT} where a.site_key = $1"))
        .bind(site_key)
        .fetch_optional(pool)
        .await
}

/// Stores valid settings, and the photo change, in one transaction.
pub async fn save(pool: &PgPool, account_id: Uuid, valid: &Valid) -> sqlx::Result<Settings> {
    let mut tx = pool.begin().await?;
    let b = &valid.body;
    // A new language of the widget is also the notification service's for
    // the shop's visitors: the managers' announcements carry it, so they go
    // out again (only when it changes; before the settings are).
    sqlx::query!(
        "update manager set announced = false, updated_at = now() where account_id = $1 \
             and $2::text <> (select language from widget_settings where account_id = $1)",
        account_id,
        b.language.as_deref()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update widget_settings set enabled = $2, manager_sound = $3, visitor_sound = $4, \
         position = $5, color = $6, online_title = $7, online_message = $8, offline_title = $9, \
         offline_message = $10, hidden_pages = $11, allowed_origins = $12, \
         language = coalesce($13, language), \
         language_from_browser = coalesce($14, language_from_browser), updated_at = now() \
         where account_id = $1",
        account_id,
        b.enabled,
        &b.manager_sound,
        &b.visitor_sound,
        &b.position,
        &b.color,
        &b.online_title,
        &b.online_message,
        &b.offline_title,
        &b.offline_message,
        &b.hidden_pages,
        &b.allowed_origins,
        b.language.as_deref(),
        b.language_from_browser
    )
    .execute(&mut *tx)
    .await?;
    let kept = match &valid.photo {
        PhotoChange::Keep => None,
        PhotoChange::Remove => Some(None),
        PhotoChange::Replace(photo) => {
            sqlx::query!(
                "insert into widget_photo (account_id, name, content_type, bytes) \
                 values ($1, $2, $3, $4) on conflict do nothing",
                account_id,
                &photo.name,
                photo.content_type,
                &photo.bytes
            )
            .execute(&mut *tx)
            .await?;
            Some(Some(photo.name.clone()))
        }
    };
    if let Some(name) = kept {
        sqlx::query!(
            "update widget_settings set photo_name = $2 where account_id = $1",
            account_id,
            name.as_deref()
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "delete from widget_photo where account_id = $1 and name is distinct from $2",
            account_id,
            name.as_deref()
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    by_account(pool, account_id).await
}

/// A new identity secret (256 random bits, hex); the old one stops verifying.
pub async fn rotate_identity_secret(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Settings> {
    let (secret, _) = crate::credentials::new_token();
    sqlx::query!(
        "update account set identity_secret = $2, updated_at = now() where id = $1",
        account_id,
        secret
    )
    .execute(pool)
    .await?;
    by_account(pool, account_id).await
}

/// A stored photo: its content type and bytes.
pub async fn photo(
    pool: &PgPool,
    account_id: Uuid,
    name: &str,
) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    let photo = sqlx::query!(
        "select content_type, bytes from widget_photo where account_id = $1 and name = $2",
        account_id,
        name
    )
    .fetch_optional(pool)
    .await?;
    Ok(photo.map(|p| (p.content_type, p.bytes)))
}
