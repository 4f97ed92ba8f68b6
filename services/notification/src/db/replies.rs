//! Managers' replies waiting to be settled, and when each dialog's are due.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A manager's reply (site chat or e-mail) not yet settled.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Unsent {
    pub seq: i64,
    pub message_id: Uuid,
    /// `site` or `email`.
    pub channel: String,
    pub manager_id: Option<Uuid>,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// Keeps a reply until its dialog's replies are due `wait` after it (or
/// sooner, when another is due sooner). Once per message, however often its
/// event comes: not again once settled.
pub async fn hold(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    reply: &Unsent,
    wait: std::time::Duration,
) -> sqlx::Result<()> {
    let kept = sqlx::query!(
        "insert into unsent_reply (account_id, dialog_id, seq, message_id, channel, manager_id, \
             text, created_at) \
         select $1, $2, $3, $4, $5, $6, $7, $8 where not exists (select 1 from dialog_state \
             where account_id = $1 and dialog_id = $2 and replied_seq >= $3) \
         on conflict do nothing",
        account_id,
        dialog_id,
        reply.seq,
        reply.message_id,
        reply.channel,
        reply.manager_id,
        reply.text,
        reply.created_at
    )
    .execute(&mut *conn)
    .await?;
    if kept.rows_affected() == 1 {
        sqlx::query!(
            "insert into reply_due (account_id, dialog_id, due_at) \
             values ($1, $2, $3::timestamptz + make_interval(secs => $4)) \
             on conflict (account_id, dialog_id) do update \
                 set due_at = least(reply_due.due_at, excluded.due_at)",
            account_id,
            dialog_id,
            reply.created_at,
            wait.as_secs_f64()
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Takes up to `limit` dialogs whose replies are due, oldest first, with their
/// `dialog_state` rows locked: another replica's sweep skips them until this
/// transaction ends, and so does a sweep while the events' consumer is
/// writing the dialog (the sweep then never waits on the consumer, which
/// waits on it: no deadlock).
pub async fn take_due(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    let due = sqlx::query!(
        "delete from reply_due where (account_id, dialog_id) in ( \
             select d.account_id, d.dialog_id from reply_due d \
             join dialog_state s on s.account_id = d.account_id and s.dialog_id = d.dialog_id \
             where d.due_at <= now() order by d.due_at limit $1 \
             for update of d, s skip locked) \
         returning account_id, dialog_id",
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(due
        .into_iter()
        .map(|r| (r.account_id, r.dialog_id))
        .collect())
}

/// The dialog's replies waiting, oldest first.
pub async fn unsent(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
) -> sqlx::Result<Vec<Unsent>> {
    sqlx::query_as!(
        Unsent,
        "select seq, message_id, channel, manager_id, text, created_at from unsent_reply \
         where account_id = $1 and dialog_id = $2 order by seq",
        account_id,
        dialog_id
    )
    .fetch_all(conn)
    .await
}

/// Replies up to `through_seq` are settled: they wait no more, and are not
/// held again.
pub async fn settled(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    through_seq: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from unsent_reply where account_id = $1 and dialog_id = $2 and seq <= $3",
        account_id,
        dialog_id,
        through_seq
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into dialog_state (account_id, dialog_id, replied_seq) values ($1, $2, $3) \
         on conflict (account_id, dialog_id) do update \
             set replied_seq = greatest(dialog_state.replied_seq, excluded.replied_seq)",
        account_id,
        dialog_id,
        through_seq
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The Message-ID the dialog's e-mails to the visitor answer, if one was sent.
pub async fn thread(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
) -> sqlx::Result<Option<String>> {
    let found = sqlx::query_scalar!(
        "select thread_message_id from dialog_state where account_id = $1 and dialog_id = $2",
        account_id,
        dialog_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.filter(|id| !id.is_empty()))
}

/// Starts the dialog's thread with the Message-ID of its first e-mail.
pub async fn start_thread(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    message_id: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into dialog_state (account_id, dialog_id, thread_message_id) values ($1, $2, $3) \
         on conflict (account_id, dialog_id) do update set thread_message_id = $3 \
         where dialog_state.thread_message_id = ''",
        account_id,
        dialog_id,
        message_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
