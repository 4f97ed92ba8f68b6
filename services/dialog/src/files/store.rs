//! The SQL of files: what each is (`file`) and its bytes (`file_blob`),
//! every query scoped to its account.

use sqlx::PgPool;
use uuid::Uuid;

/// What a file is, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub has_thumbnail: bool,
}

/// A file to keep, with its bytes.
pub struct NewFile<'a> {
    pub account_id: Uuid,
    pub contact_id: Uuid,
    pub uploader_kind: &'a str,
    pub uploader_id: Option<Uuid>,
    pub client_file_id: Option<&'a str>,
    pub name: &'a str,
    pub content_type: &'a str,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub bytes: &'a [u8],
    pub thumbnail: Option<&'a [u8]>,
}

/// The contact whose dialog `dialog_id` is, in the account, and where a
/// reply into it goes unless a manager chooses (where they last wrote from).
pub async fn dialog_contact(
    pool: &PgPool,
    account_id: Uuid,
    dialog_id: Uuid,
) -> sqlx::Result<Option<(Uuid, String)>> {
    let row = sqlx::query!(
        "select contact_id, last_inbound_channel from dialog where account_id = $1 and id = $2",
        account_id,
        dialog_id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.contact_id, r.last_inbound_channel)))
}

/// Keeps the file and its bytes in one statement; `None` when the
/// uploader's key was taken first (then [`find_by_client_id`] has it).
pub async fn insert(pool: &PgPool, new: &NewFile<'_>) -> sqlx::Result<Option<FileRow>> {
    sqlx::query_as!(
        FileRow,
        "with f as ( \
             insert into file (id, account_id, contact_id, uploader_kind, uploader_id, \
                 client_file_id, name, content_type, size, width, height, has_thumbnail, \
                 stored_in) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13::bytea is not null, \
                 'postgres') \
             on conflict on constraint file_client_id_unique do nothing \
             returning * \
         ), original as ( \
             insert into file_blob (file_id, part, data) select id, 'original', $12 from f \
         ), small as ( \
             insert into file_blob (file_id, part, data) \
             select id, 'thumbnail', $13 from f where $13::bytea is not null \
         ) \
         select id, contact_id, name, content_type, size, width, height, has_thumbnail from f",
        Uuid::now_v7(),
        new.account_id,
        new.contact_id,
        new.uploader_kind,
        new.uploader_id,
        new.client_file_id,
        new.name,
        new.content_type,
        new.bytes.len() as i64,
        new.width,
        new.height,
        new.bytes,
        new.thumbnail
    )
    .fetch_optional(pool)
    .await
}

pub async fn find_by_client_id(
    pool: &PgPool,
    account_id: Uuid,
    client_file_id: &str,
) -> sqlx::Result<Option<FileRow>> {
    sqlx::query_as!(
        FileRow,
        "select id, contact_id, name, content_type, size, width, height, has_thumbnail \
         from file where account_id = $1 and client_file_id = $2",
        account_id,
        client_file_id
    )
    .fetch_optional(pool)
    .await
}

/// The account's files among `ids` (those of another account are not found).
pub async fn files(pool: &PgPool, account_id: Uuid, ids: &[Uuid]) -> sqlx::Result<Vec<FileRow>> {
    sqlx::query_as!(
        FileRow,
        "select id, contact_id, name, content_type, size, width, height, has_thumbnail \
         from file where account_id = $1 and id = any($2)",
        account_id,
        ids
    )
    .fetch_all(pool)
    .await
}

/// A file's bytes (`original` or `thumbnail`), with what it is; `None`
/// when the account has no such file, or `contact_id` is given and it is
/// not of their dialog.
pub async fn bytes(
    pool: &PgPool,
    account_id: Uuid,
    file_id: Uuid,
    contact_id: Option<Uuid>,
    part: &str,
) -> sqlx::Result<Option<(FileRow, Vec<u8>)>> {
    let row = sqlx::query!(
        "select f.id, f.contact_id, f.name, f.content_type, f.size, f.width, f.height, \
             f.has_thumbnail, b.data \
         from file f join file_blob b on b.file_id = f.id and b.part = $4 \
         where f.account_id = $1 and f.id = $2 and ($3::uuid is null or f.contact_id = $3)",
        account_id,
        file_id,
        contact_id,
        part
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        let file = FileRow {
            id: r.id,
            contact_id: r.contact_id,
            name: r.name,
            content_type: r.content_type,
            size: r.size,
            width: r.width,
            height: r.height,
            has_thumbnail: r.has_thumbnail,
        };
        (file, r.data)
    }))
}
