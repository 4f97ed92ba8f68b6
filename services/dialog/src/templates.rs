//! Reply templates of an account: a name to find one by and the text it puts
//! into the reply box. Names are unique per account, whatever their case.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use chat_proto::dialog::v1 as pb;
use chat_proto::time::to_proto;

use crate::error::{Error, Result};
use crate::messages::MAX_TEXT_CHARS;

/// Longest template name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most templates an account keeps.
pub const MAX_TEMPLATES: i64 = 1000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const TEMPLATE_COLUMNS: &str = "id, account_id, name, text, created_at, updated_at";

/// Checks a name and a text: every problem, by field.
pub fn check(name: Option<&str>, text: Option<&str>) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(name) = name {
        if name.contains('\0') || name.trim().is_empty() {
            problems.push(("name", "is empty".to_owned()));
        } else if name.chars().count() > MAX_NAME_CHARS {
            problems.push((
                "name",
                format!("is longer than {MAX_NAME_CHARS} characters"),
            ));
        }
    }
    if let Some(text) = text {
        if text.contains('\0') || text.trim().is_empty() {
            problems.push(("text", "is empty".to_owned()));
        } else if text.chars().count() > MAX_TEXT_CHARS {
            problems.push((
                "text",
                format!("is longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(Error::Fields(problems)),
    }
}

pub async fn list(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Vec<TemplateRow>> {
    sqlx::query_as(&format!(
        "select {TEMPLATE_COLUMNS} from reply_template where account_id = $1 \
         order by lower(name), id limit {MAX_TEMPLATES}"
    ))
    .bind(account_id)
    .fetch_all(pool)
    .await
}

pub async fn insert(
    pool: &PgPool,
    account_id: Uuid,
    name: &str,
    text: &str,
) -> Result<TemplateRow> {
    let row = sqlx::query_as(&format!(
        "insert into reply_template (id, account_id, name, text) \
         select $1, $2, $3, $4 \
         where (select count(*) from reply_template where account_id = $2) < {MAX_TEMPLATES} \
         returning {TEMPLATE_COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(account_id)
    .bind(name.trim())
    .bind(text)
    .fetch_optional(pool)
    .await
    .map_err(on_name_taken)?;
    row.ok_or_else(|| {
        Error::field(
            "name",
            format!("an account keeps at most {MAX_TEMPLATES} templates"),
        )
    })
}

pub async fn update(
    pool: &PgPool,
    account_id: Uuid,
    template_id: Uuid,
    name: Option<&str>,
    text: Option<&str>,
) -> Result<Option<TemplateRow>> {
    sqlx::query_as(&format!(
        "update reply_template set name = coalesce($3, name), text = coalesce($4, text), \
             updated_at = now() \
         where account_id = $1 and id = $2 returning {TEMPLATE_COLUMNS}"
    ))
    .bind(account_id)
    .bind(template_id)
    .bind(name.map(str::trim))
    .bind(text)
    .fetch_optional(pool)
    .await
    .map_err(on_name_taken)
}

/// Whether a template was deleted.
pub async fn delete(pool: &PgPool, account_id: Uuid, template_id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from reply_template where account_id = $1 and id = $2",
        account_id,
        template_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn on_name_taken(e: sqlx::Error) -> Error {
    Error::on_constraint(
        e,
        &[(
            "reply_template_name_unique",
            "name",
            "a template with this name exists",
        )],
    )
}

impl From<TemplateRow> for pb::Template {
    fn from(t: TemplateRow) -> Self {
        Self {
            id: t.id.to_string(),
            account_id: t.account_id.to_string(),
            name: t.name,
            text: t.text,
            created_at: Some(to_proto(t.created_at)),
            updated_at: Some(to_proto(t.updated_at)),
        }
    }
}
