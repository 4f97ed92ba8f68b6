//! Files attached to answers by e-mail, kept for the console.

use sqlx::PgPool;
use uuid::Uuid;

/// One attachment of an e-mail.
#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    pub account_id: Uuid,
    pub dialog_id: Uuid,
    /// The e-mail's client id (its Message-ID's hash) and the attachment's place in it.
    pub client_message_id: &'a str,
    pub position: i32,
    pub name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// Keeps the file; its id (the one kept before when the e-mail came again).
pub async fn keep(pool: &PgPool, file: &NewFile<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "with new as ( \
             insert into email_file (id, account_id, dialog_id, client_message_id, position, \
                 name, content_type, bytes) values ($1, $2, $3, $4, $5, $6, $7, $8) \
             on conflict (account_id, client_message_id, position) do nothing returning id) \
         select id as \"id!\" from new union all \
         select id from email_file \
         where account_id = $2 and client_message_id = $4 and position = $5",
        Uuid::now_v7(),
        file.account_id,
        file.dialog_id,
        file.client_message_id,
        file.position,
        file.name,
        file.content_type,
        file.bytes
    )
    .fetch_one(pool)
    .await
}

#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The account's file `id`.
pub async fn get(pool: &PgPool, account_id: Uuid, id: Uuid) -> sqlx::Result<Option<File>> {
    sqlx::query_as!(
        File,
        "select name, content_type, bytes from email_file where account_id = $1 and id = $2",
        account_id,
        id
    )
    .fetch_optional(pool)
    .await
}
