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

/// Each dialog's contact, as its messages' events name it: written only
/// where it is new (most messages change nothing). One statement for a
/// batch; a dialog named twice keeps the last.
pub async fn set_contacts(
    conn: &mut PgConnection,
    contacts: &[(Uuid, Uuid, Uuid)],
) -> sqlx::Result<()> {
    if contacts.is_empty() {
        return Ok(());
    }
    let mut by_dialog = std::collections::HashMap::new();
    for &(account_id, dialog_id, contact_id) in contacts {
        by_dialog.insert((account_id, dialog_id), contact_id);
    }
    let (mut accounts, mut dialogs, mut contact_ids) = (Vec::new(), Vec::new(), Vec::new());
    for ((account_id, dialog_id), contact_id) in by_dialog {
        accounts.push(account_id);
        dialogs.push(dialog_id);
        contact_ids.push(contact_id);
    }
    sqlx::query!(
        "insert into dialog_state (account_id, dialog_id, contact_id) \
         select * from unnest($1::uuid[], $2::uuid[], $3::uuid[]) \
         on conflict (account_id, dialog_id) do update set contact_id = excluded.contact_id \
         where dialog_state.contact_id is distinct from excluded.contact_id",
        &accounts,
        &dialogs,
        &contact_ids
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

/// A visitor's message to hold for its dialog's alert.
#[derive(Debug, Clone)]
pub struct ToHold {
    pub account_id: Uuid,
    pub dialog_id: Uuid,
    pub message: Unalerted,
}

/// Keeps visitors' messages for their dialogs' alerts, and makes each
/// dialog's alert due `window` after its first one kept unless one is due
/// already. Once per message, however often its event comes: not again once
/// alerted about or answered. One statement for a batch.
pub async fn hold_all(
    conn: &mut PgConnection,
    messages: &[ToHold],
    window: std::time::Duration,
) -> sqlx::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let accounts: Vec<Uuid> = messages.iter().map(|m| m.account_id).collect();
    let dialogs: Vec<Uuid> = messages.iter().map(|m| m.dialog_id).collect();
    let seqs: Vec<i64> = messages.iter().map(|m| m.message.seq).collect();
    let texts: Vec<String> = messages.iter().map(|m| m.message.text.clone()).collect();
    let times: Vec<DateTime<Utc>> = messages.iter().map(|m| m.message.created_at).collect();
    sqlx::query!(
        "with kept as ( \
             insert into unalerted_message (account_id, dialog_id, seq, text, created_at) \
             select m.account_id, m.dialog_id, m.seq, m.text, m.created_at \
             from unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::timestamptz[]) \
                 as m(account_id, dialog_id, seq, text, created_at) \
             where not exists (select 1 from dialog_state d where d.account_id = m.account_id \
                 and d.dialog_id = m.dialog_id and d.alerted_seq >= m.seq) \
             on conflict do nothing \
             returning account_id, dialog_id, created_at) \
         insert into alert_due (account_id, dialog_id, due_at) \
         select account_id, dialog_id, min(created_at) + make_interval(secs => $6) \
         from kept group by account_id, dialog_id \
         on conflict do nothing",
        &accounts,
        &dialogs,
        &seqs,
        &texts,
        &times,
        window.as_secs_f64()
    )
    .execute(conn)
    .await?;
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
