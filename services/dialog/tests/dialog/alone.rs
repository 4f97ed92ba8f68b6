//! A message written alone (one statement, `dialog::alone`) writes what the
//! long way (a transaction, `dialog::messages::write`) writes for the same
//! post: the same message, the same dialog afterwards, the same read
//! position, the same events. Two twin dialogs get the same posts, one each
//! way, and are compared.

use prost::Message as _;
use serde_json::Value;
use uuid::Uuid;

use chat_proto::dialog::v1 as pb;
use chat_proto::events::v1 as ev;
use dialog::alone;
use dialog::messages::{self, Post};

use crate::helpers::TestDialog;

/// A dialog, its message and its manager's read position, without what
/// differs between twins (ids, times, the contact).
async fn written(pool: &sqlx::PgPool, message_id: Uuid) -> Value {
    sqlx::query_scalar(
        "select jsonb_build_object( \
             'message', to_jsonb(m) - 'id' - 'dialog_id' - 'author_id' - 'created_at', \
             'dialog', to_jsonb(d) - 'id' - 'contact_id' - 'created_at' - 'updated_at' \
                 - 'last_message_at', \
             'read', (select jsonb_agg(to_jsonb(r) - 'dialog_id' - 'updated_at') \
                      from dialog_read r where r.dialog_id = d.id)) \
         from message m join dialog d on d.id = m.dialog_id where m.id = $1",
    )
    .bind(message_id)
    .fetch_one(pool)
    .await
    .expect("the message and its dialog")
}

/// Each event's type, and its message without ids and times.
fn told(events: &[(&'static str, Vec<u8>)], contact_id: Uuid) -> Vec<(&'static str, pb::Message)> {
    events
        .iter()
        .map(|(event_type, payload)| {
            let created = ev::MessageCreated::decode(payload.as_slice()).unwrap();
            assert_eq!(created.contact_id, contact_id.to_string());
            let mut message = created.message.unwrap();
            message.id.clear();
            message.dialog_id.clear();
            message.author_id.clear();
            message.created_at = None;
            (*event_type, message)
        })
        .collect()
}

/// The post both ways: the long way into the first twin, alone into the second.
async fn both_ways(
    pool: &sqlx::PgPool,
    long: Post,
    alone_post: Post,
    twins: [(Uuid, Uuid); 2],
    manager: Option<Uuid>,
) {
    let mut conn = pool.acquire().await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    let mut events = Vec::new();
    let long_way = messages::write(&mut tx, &long, &mut events).await.unwrap();
    tx.commit().await.unwrap();
    let long_events: Vec<_> = events
        .into_iter()
        .map(|e| (e.event_type, e.payload))
        .collect();

    let [(_, long_contact), (alone_dialog, alone_contact)] = twins;
    let new = alone_post.new_message();
    let stored = match manager {
        None => {
            let channel = new.channel.expect("a visitor's channel");
            alone::append_visitor_message(&mut conn, &new, alone_dialog, alone_contact, channel)
                .await
        }
        Some(manager) => alone::append_manager_reply(&mut conn, &new, alone_dialog, manager).await,
    }
    .unwrap()
    .expect("written alone");
    let alone_events: Vec<_> = stored
        .events
        .into_iter()
        .map(|r| (r.event.event_type, r.event.payload))
        .collect();

    assert_eq!(
        written(pool, long_way.message.id).await,
        written(pool, stored.message.id).await
    );
    assert_eq!(
        told(&long_events, long_contact),
        told(&alone_events, alone_contact)
    );
}

fn post(account: Uuid, author: pb::AuthorKind, who: &str, to: &str, text: &str) -> Post {
    let mut request = pb::PostMessageRequest {
        account_id: account.to_string(),
        author_kind: author as i32,
        client_message_id: text.into(),
        text: text.into(),
        ..Default::default()
    };
    match author {
        pb::AuthorKind::Visitor => {
            request.contact_id = who.into();
            request.channel = pb::Channel::Telegram as i32;
        }
        _ => {
            request.author_id = who.into();
            request.dialog_id = to.into();
        }
    }
    messages::check(request).unwrap()
}

#[tokio::test]
async fn a_message_written_alone_is_what_the_long_way_writes() {
    let t = TestDialog::start().await;
    let pool = t.env.schema_pool("dialog").await;
    let (account, manager) = (Uuid::now_v7(), Uuid::now_v7());
    let mut twins = Vec::new();
    for _ in 0..2 {
        let contact = Uuid::now_v7();
        let first = t
            .contact_writes_from(pb::Channel::Telegram, account, contact, "first", "hello")
            .await
            .unwrap();
        let dialog: Uuid = first.message.unwrap().dialog_id.parse().unwrap();
        // The manager takes it, the long way.
        t.reply_as(account, &dialog.to_string(), manager, "taken", "hi")
            .await
            .unwrap();
        twins.push((dialog, contact));
    }
    let twins = [twins[0], twins[1]];
    let [(a_dialog, a_contact), (b_dialog, b_contact)] = twins;

    // A visitor's message from Telegram.
    let visitor = |contact: Uuid| {
        post(
            account,
            pb::AuthorKind::Visitor,
            &contact.to_string(),
            &contact.to_string(),
            "where is it?",
        )
    };
    both_ways(&pool, visitor(a_contact), visitor(b_contact), twins, None).await;

    // A manager's reply, which goes back through Telegram with a second event.
    let reply = |dialog: Uuid| {
        post(
            account,
            pb::AuthorKind::Manager,
            &manager.to_string(),
            &dialog.to_string(),
            "on its way",
        )
    };
    both_ways(
        &pool,
        reply(a_dialog),
        reply(b_dialog),
        twins,
        Some(manager),
    )
    .await;

    pool.close().await;
    t.stop().await;
}
