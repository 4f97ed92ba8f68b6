//! The contacts' names and addresses, as the contact service last told.

use sqlx::PgConnection;
use uuid::Uuid;

pub async fn set(
    conn: &mut PgConnection,
    account_id: Uuid,
    contact_id: Uuid,
    name: &str,
    email: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into contact (account_id, contact_id, name, email) values ($1, $2, $3, $4) \
         on conflict (account_id, contact_id) do update \
             set name = excluded.name, email = excluded.email",
        account_id,
        contact_id,
        name,
        email
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A contact's name and e-mail address (empty while unknown).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Contact {
    pub name: String,
    pub email: String,
}

pub async fn get(
    conn: &mut PgConnection,
    account_id: Uuid,
    contact_id: Uuid,
) -> sqlx::Result<Contact> {
    let found = sqlx::query_as!(
        Contact,
        "select name, email from contact where account_id = $1 and contact_id = $2",
        account_id,
        contact_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.unwrap_or_default())
}
