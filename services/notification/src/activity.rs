//! Who wrote last in each dialog, kept from `dialog.message_created`. The
//! update only moves forward (`greatest`), so a redelivered or late event
//! changes nothing: the handler is idempotent without an inbox. The alerts
//! consumer ([`crate::alerts::watch`]) reads the same events and hands each
//! batch here, in its transaction: folded per dialog, written with one
//! statement.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use chat_platform::bus::HandlerError;
use chat_platform::events::{MESSAGE_CREATED, MessageCreated, id};
use chat_proto::dialog::v1 as pb;
use chat_proto::events::v1 as ev;

/// The consumer that fed this before the alerts consumer did, retired at
/// start.
pub const RETIRED_CONSUMER: &str = "notification_activity";

/// One side's latest message in a dialog.
#[derive(Debug, PartialEq)]
pub struct Spoke {
    pub account_id: Uuid,
    pub dialog_id: Uuid,
    pub contact_id: Uuid,
    pub by_visitor: bool,
    pub seq: i64,
    pub at: DateTime<Utc>,
}

pub fn from_event(envelope: &ev::Envelope) -> Result<Option<Spoke>, HandlerError> {
    let MessageCreated {
        message,
        contact_id,
    } = MessageCreated::decode(envelope)?;
    let by_visitor = match message.author_kind() {
        pb::AuthorKind::Visitor => true,
        pb::AuthorKind::Manager => false,
        _ => return Ok(None), // system messages answer nobody
    };
    Ok(Some(Spoke {
        account_id: id(&message.account_id)?,
        dialog_id: id(&message.dialog_id)?,
        contact_id,
        by_visitor,
        seq: message.seq,
        at: message
            .created_at
            .as_ref()
            .map(chat_proto::time::from_proto)
            .unwrap_or_else(Utc::now),
    }))
}

/// Per dialog, the newest message of each side among some events.
#[derive(Debug, Default, PartialEq)]
pub struct Activity {
    pub contact_id: Uuid,
    pub last_visitor: Option<(i64, DateTime<Utc>)>,
    pub last_manager: Option<(i64, DateTime<Utc>)>,
}

/// Folds what was said into one record per `(account, dialog)`, so a batch
/// touches each dialog's row once, in key order (so that replicas upserting
/// the same dialogs lock them in the same order).
pub fn fold(spoken: impl IntoIterator<Item = Spoke>) -> BTreeMap<(Uuid, Uuid), Activity> {
    let mut dialogs: BTreeMap<(Uuid, Uuid), Activity> = BTreeMap::new();
    for spoke in spoken {
        let activity = dialogs
            .entry((spoke.account_id, spoke.dialog_id))
            .or_default();
        activity.contact_id = spoke.contact_id;
        let side = match spoke.by_visitor {
            true => &mut activity.last_visitor,
            false => &mut activity.last_manager,
        };
        if side.is_none_or(|(seq, _)| seq < spoke.seq) {
            *side = Some((spoke.seq, spoke.at));
        }
    }
    dialogs
}

/// Records who spoke in the `dialog.message_created` events among
/// `envelopes` (the others are passed over).
pub async fn record(
    conn: &mut PgConnection,
    envelopes: &[ev::Envelope],
) -> Result<(), HandlerError> {
    let mut spoken = Vec::with_capacity(envelopes.len());
    for envelope in envelopes.iter().filter(|e| e.r#type == MESSAGE_CREATED) {
        spoken.extend(from_event(envelope)?);
    }
    let dialogs = fold(spoken);
    if dialogs.is_empty() {
        return Ok(());
    }
    let mut columns = Columns::default();
    for ((account_id, dialog_id), activity) in dialogs {
        columns.account_ids.push(account_id);
        columns.dialog_ids.push(dialog_id);
        columns.contact_ids.push(activity.contact_id);
        columns
            .visitor_seqs
            .push(activity.last_visitor.map_or(0, |v| v.0));
        columns.visitor_ats.push(activity.last_visitor.map(|v| v.1));
        columns
            .manager_seqs
            .push(activity.last_manager.map_or(0, |m| m.0));
        columns.manager_ats.push(activity.last_manager.map(|m| m.1));
    }
    sqlx::query!(
        "insert into dialog_activity (account_id, dialog_id, contact_id, last_visitor_seq, \
             last_visitor_message_at, last_manager_seq, last_manager_message_at) \
         select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bigint[], \
             $5::timestamptz[], $6::bigint[], $7::timestamptz[]) \
         on conflict (account_id, dialog_id) do update set \
             last_visitor_seq = greatest(dialog_activity.last_visitor_seq, excluded.last_visitor_seq), \
             last_visitor_message_at = greatest(dialog_activity.last_visitor_message_at, excluded.last_visitor_message_at), \
             last_manager_seq = greatest(dialog_activity.last_manager_seq, excluded.last_manager_seq), \
             last_manager_message_at = greatest(dialog_activity.last_manager_message_at, excluded.last_manager_message_at), \
             updated_at = now()",
        &columns.account_ids,
        &columns.dialog_ids,
        &columns.contact_ids,
        &columns.visitor_seqs,
        &columns.visitor_ats as &[Option<DateTime<Utc>>],
        &columns.manager_seqs,
        &columns.manager_ats as &[Option<DateTime<Utc>>]
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The rows of one upsert, column by column (what `unnest` takes).
#[derive(Default)]
struct Columns {
    account_ids: Vec<Uuid>,
    dialog_ids: Vec<Uuid>,
    contact_ids: Vec<Uuid>,
    visitor_seqs: Vec<i64>,
    visitor_ats: Vec<Option<DateTime<Utc>>>,
    manager_seqs: Vec<i64>,
    manager_ats: Vec<Option<DateTime<Utc>>>,
}

/// Dialogs of the account whose visitor wrote after the last answer.
pub async fn waiting_for_answer(pool: &PgPool, account_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "select dialog_id from dialog_activity \
         where account_id = $1 and last_visitor_seq > last_manager_seq \
         order by last_visitor_message_at",
        account_id
    )
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spoke(dialog_id: Uuid, by_visitor: bool, seq: i64) -> Spoke {
        Spoke {
            account_id: Uuid::nil(),
            dialog_id,
            contact_id: Uuid::nil(),
            by_visitor,
            seq,
            at: DateTime::from_timestamp(seq, 0).unwrap(),
        }
    }

    #[test]
    fn a_batch_folds_into_the_newest_message_of_each_side_per_dialog() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let folded = fold([
            spoke(a, true, 3),
            spoke(a, true, 1),
            spoke(a, false, 2),
            spoke(b, true, 7),
        ]);
        assert_eq!(folded.len(), 2);
        let in_a = &folded[&(Uuid::nil(), a)];
        assert_eq!(in_a.last_visitor.map(|v| v.0), Some(3));
        assert_eq!(in_a.last_manager.map(|m| m.0), Some(2));
        let in_b = &folded[&(Uuid::nil(), b)];
        assert_eq!(
            (in_b.last_visitor.map(|v| v.0), in_b.last_manager),
            (Some(7), None)
        );
    }
}
