//! What alerts are made of: each dialog's contact and manager, managers'
//! read positions, the visitors' messages nobody was told of yet, and when
//! each dialog's alert is due.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A dialog's contact, name and manager, as its latest event said.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct DialogState {
    pub contact_id: Option<Uuid>,
    pub contact_name: String,
    pub manager_id: Option<Uuid>,
}

/// Keeps the dialog's state (an update that changes nothing writes nothing:
/// most events of a busy dialog repeat what is known).
pub async fn set_dialog(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    state: &DialogState,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into dialog_state (account_id, dialog_id, contact_id, contact_name, manager_id) \
         values ($1, $2, $3, $4, $5) \
         on conflict (account_id, dialog_id) do update set \
             contact_id = coalesce(excluded.contact_id, dialog_state.contact_id), \
             contact_name = excluded.contact_name, manager_id = excluded.manager_id \
         where (dialog_state.contact_id, dialog_state.contact_name, dialog_state.manager_id) \
             is distinct from (coalesce(excluded.contact_id, dialog_state.contact_id), \
                 excluded.contact_name, excluded.manager_id)",
        account_id,
        dialog_id,
        state.contact_id,
        state.contact_name,
        state.manager_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps the dialog's contact, as a message's event names it; writes only
/// when it is new (the first message, or a merge).
pub async fn set_contact(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    contact_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into dialog_state (account_id, dialog_id, contact_id) values ($1, $2, $3) \
         on conflict (account_id, dialog_id) do update set contact_id = excluded.contact_id \
         where dialog_state.contact_id is distinct from excluded.contact_id",
        account_id,
        dialog_id,
        contact_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn dialog(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
) -> sqlx::Result<DialogState> {
    let found = sqlx::query_as!(
        DialogState,
        "select contact_id, contact_name, manager_id from dialog_state \
         where account_id = $1 and dialog_id = $2",
        account_id,
        dialog_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.unwrap_or_default())
}

/// A dialog by its id alone (its reply address names only that): its
/// account and state.
pub async fn dialog_by_id(
    conn: &mut PgConnection,
    dialog_id: Uuid,
) -> sqlx::Result<Option<(Uuid, DialogState)>> {
    let found = sqlx::query!(
        "select account_id, contact_id, contact_name, manager_id from dialog_state \
         where dialog_id = $1",
        dialog_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.map(|row| {
        (
            row.account_id,
            DialogState {
                contact_id: row.contact_id,
                contact_name: row.contact_name,
                manager_id: row.manager_id,
            },
        )
    }))
}

/// Moves a manager's read position forward (never back).
pub async fn mark_read(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    manager_id: Uuid,
    seq: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into dialog_read (account_id, dialog_id, manager_id, seq) values ($1, $2, $3, $4) \
         on conflict (account_id, dialog_id, manager_id) do update \
             set seq = greatest(dialog_read.seq, excluded.seq)",
        account_id,
        dialog_id,
        manager_id,
        seq
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn read_seq(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    manager_id: Uuid,
) -> sqlx::Result<i64> {
    let seq = sqlx::query_scalar!(
        "select seq from dialog_read where account_id = $1 and dialog_id = $2 and manager_id = $3",
        account_id,
        dialog_id,
        manager_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(seq.unwrap_or(0))
}

/// A visitor's message nobody was told of yet.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Unalerted {
    pub seq: i64,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// Keeps a visitor's message for its dialog's alert, and makes the alert due
/// `window` after it unless one is due already. Once per message, however
/// often its event comes: not again once alerted about or answered.
pub async fn hold(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    message: &Unalerted,
    window: std::time::Duration,
) -> sqlx::Result<()> {
    let kept = sqlx::query!(
        "insert into unalerted_message (account_id, dialog_id, seq, text, created_at) \
         select $1, $2, $3, $4, $5 where not exists (select 1 from dialog_state \
             where account_id = $1 and dialog_id = $2 and alerted_seq >= $3) \
         on conflict do nothing",
        account_id,
        dialog_id,
        message.seq,
        message.text,
        message.created_at
    )
    .execute(&mut *conn)
    .await?;
    if kept.rows_affected() == 1 {
        sqlx::query!(
            "insert into alert_due (account_id, dialog_id, due_at) \
             values ($1, $2, $3::timestamptz + make_interval(secs => $4)) on conflict do nothing",
            account_id,
            dialog_id,
            message.created_at,
            window.as_secs_f64()
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A manager answered: what the visitor wrote before needs no alert.
pub async fn answered(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    seq: i64,
) -> sqlx::Result<()> {
    settled(conn, account_id, dialog_id, seq).await
}

/// Messages up to `through_seq` wait no more, and are not held again.
async fn settled(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    through_seq: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from unalerted_message where account_id = $1 and dialog_id = $2 and seq <= $3",
        account_id,
        dialog_id,
        through_seq
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into dialog_state (account_id, dialog_id, alerted_seq) values ($1, $2, $3) \
         on conflict (account_id, dialog_id) do update \
             set alerted_seq = greatest(dialog_state.alerted_seq, excluded.alerted_seq)",
        account_id,
        dialog_id,
        through_seq
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes up to `limit` dialogs whose alert is due, oldest first, with their
/// `dialog_state` rows locked: another replica's sweep skips them until this
/// transaction ends, and so does a sweep while the events' consumer is
/// writing the dialog (the sweep then never waits on the consumer, which
/// waits on it: no deadlock).
pub async fn take_due(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    let due = sqlx::query!(
        "delete from alert_due where (account_id, dialog_id) in ( \
             select d.account_id, d.dialog_id from alert_due d \
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

/// The dialog's messages waiting for an alert, oldest first.
pub async fn unalerted(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
) -> sqlx::Result<Vec<Unalerted>> {
    sqlx::query_as!(
        Unalerted,
        "select seq, text, created_at from unalerted_message \
         where account_id = $1 and dialog_id = $2 order by seq",
        account_id,
        dialog_id
    )
    .fetch_all(conn)
    .await
}

/// The alert about messages up to `seq` is made: they wait no more.
pub async fn alerted(
    conn: &mut PgConnection,
    account_id: Uuid,
    dialog_id: Uuid,
    through_seq: i64,
) -> sqlx::Result<()> {
    settled(conn, account_id, dialog_id, through_seq).await
}
