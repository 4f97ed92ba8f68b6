//! Posting messages: dialogs open on a visitor's first message, messages are
//! numbered per dialog, a repeated client id is stored once, bad input is refused.

use chat_proto::dialog::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{Reply, TestDialog, seqs};

#[tokio::test]
async fn a_visitors_first_message_opens_a_dialog_and_later_ones_follow_in_sequence() {
    let t = TestDialog::start().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());

    let first = t
        .visitor_says(account, contact, "c1", "hello")
        .await
        .unwrap();
    assert!(first.dialog_created);
    let message = first.message.unwrap();
    assert_eq!(message.seq, 1);
    let dialog_id = message.dialog_id.clone();

    let second = t
        .visitor_says(account, contact, "c2", "anyone?")
        .await
        .unwrap();
    assert!(!second.dialog_created);
    assert_eq!(second.message.as_ref().unwrap().dialog_id, dialog_id);
    assert_eq!(second.message.unwrap().seq, 2);
    let reply = t
        .manager_says(account, &dialog_id, "m1", "yes")
        .await
        .unwrap();
    let reply = reply.message.unwrap();
    assert_eq!(reply.seq, 3);
    let reply_author = reply.author_id;

    let dialog = t
        .client
        .clone()
        .get_dialog(pb::GetDialogRequest {
            account_id: account.to_string(),
            dialog_id: dialog_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dialog.status(), pb::DialogStatus::Open);
    assert_eq!(
        dialog.manager_id, reply_author,
        "the first manager to reply takes a new dialog"
    );
    assert_eq!(dialog.last_seq, 3);
    assert_eq!(dialog.last_message_text, "yes");
    let page = t.messages(account, &dialog_id, 0, 0, 0).await.unwrap();
    assert_eq!(seqs(&page.messages), [1, 2, 3]);
    assert_eq!(page.messages[1].text, "anyone?");
    t.stop().await;
}

#[tokio::test]
async fn a_repeated_client_message_id_is_stored_once_and_answered_the_same() {
    let t = TestDialog::start().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());

    let first = t
        .visitor_says(account, contact, "same", "once")
        .await
        .unwrap();
    let again = t
        .visitor_says(account, contact, "same", "once")
        .await
        .unwrap();
    assert!(!first.duplicate);
    assert!(again.duplicate);
    assert!(!again.dialog_created);
    let (a, b) = (first.message.unwrap(), again.message.unwrap());
    assert_eq!((a.id.as_str(), a.seq), (b.id.as_str(), b.seq));
    assert_eq!(t.count("dialog.message").await, 1);
    assert_eq!(t.count("dialog.dialog").await, 1);

    // The same id from the manager's side is another message.
    let reply = t
        .manager_says(account, &a.dialog_id, "same", "reply")
        .await
        .unwrap();
    assert!(!reply.duplicate);
    assert_eq!(reply.message.unwrap().seq, 2);
    t.stop().await;
}

#[tokio::test]
async fn concurrent_first_messages_of_one_visitor_share_one_dialog_and_unique_numbers() {
    let t = TestDialog::start().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());

    let sends = (0..12).map(|i| {
        let t = &t;
        async move {
            t.visitor_says(account, contact, &format!("c{i}"), "hi")
                .await
                .unwrap()
        }
    });
    let posted = futures::future::join_all(sends).await;
    let dialogs: std::collections::HashSet<_> = posted
        .iter()
        .map(|p| p.message.as_ref().unwrap().dialog_id.clone())
        .collect();
    assert_eq!(dialogs.len(), 1, "one open dialog per visitor");
    assert_eq!(posted.iter().filter(|p| p.dialog_created).count(), 1);
    let mut numbers: Vec<i64> = posted
        .iter()
        .map(|p| p.message.as_ref().unwrap().seq)
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=12).collect::<Vec<_>>());
    t.stop().await;
}

#[tokio::test]
async fn bad_messages_are_refused_and_nothing_is_stored() {
    let t = TestDialog::start().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());

    let empty = t
        .visitor_says(account, contact, "c1", "   ")
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert_eq!(empty.message(), "text is empty");
    let too_long = "x".repeat(dialog::messages::MAX_TEXT_CHARS + 1);
    let long = t
        .visitor_says(account, contact, "c2", &too_long)
        .await
        .unwrap_err();
    assert_eq!(long.code(), Code::InvalidArgument);
    let no_id = t
        .visitor_says(account, contact, "", "hi")
        .await
        .unwrap_err();
    assert_eq!(no_id.code(), Code::InvalidArgument);
    let unknown = t
        .manager_says(account, &Uuid::now_v7().to_string(), "m1", "hi")
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let not_a_uuid = t
        .manager_says(account, "nope", "m1", "hi")
        .await
        .unwrap_err();
    assert_eq!(not_a_uuid.code(), Code::InvalidArgument);

    assert_eq!(t.count("dialog.message").await, 0);
    assert_eq!(t.count("dialog.dialog").await, 0);
    // No event for what was refused: once a later, good post's events are
    // on the stream, they are all there is.
    t.visitor_says(account, contact, "c3", "fine")
        .await
        .unwrap();
    let bus = t.env.bus().await;
    let types = chat_testkit::eventually("the good post's events", || async {
        let events = t.env.events(&bus).await;
        let types: Vec<String> = events.into_iter().map(|e| e.envelope.r#type).collect();
        types
            .iter()
            .any(|t| t == "dialog.message_created")
            .then_some(types)
    })
    .await;
    assert_eq!(types, ["dialog.dialog_created", "dialog.message_created"]);
    t.stop().await;
}

#[tokio::test]
async fn a_reply_through_a_messenger_is_also_published_for_the_bridge_and_nothing_else_is() {
    let t = TestDialog::start().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());
    let bus = t.env.bus().await;
    let first = t.visitor_says(account, contact, "v1", "hi").await.unwrap();
    let dialog_id = first.message.unwrap().dialog_id;
    let manager_id = Uuid::now_v7();
    let through = |channel| Reply {
        manager_id,
        channel,
    };

    t.reply(
        account,
        &dialog_id,
        through(pb::Channel::Site),
        "m1",
        "here",
    )
    .await
    .unwrap();
    t.contact_writes_from(pb::Channel::Telegram, account, contact, "tg1", "hello")
        .await
        .unwrap();
    let telegram = t
        .reply(
            account,
            &dialog_id,
            through(pb::Channel::Telegram),
            "m2",
            "via Telegram",
        )
        .await
        .unwrap()
        .message
        .unwrap();
    t.visitor_says(account, contact, "v2", "thanks")
        .await
        .unwrap();

    // Once the last message's event is on the stream, every earlier one is.
    let events = chat_testkit::eventually("the last message's event", || async {
        let events = t.env.events(&bus).await;
        let created =
            |e: &&chat_testkit::env::StoredEvent| e.envelope.r#type == "dialog.message_created";
        (events.iter().filter(created).count() == 5).then_some(events)
    })
    .await;
    let for_bridge: Vec<String> = events
        .iter()
        .filter(|e| e.envelope.r#type == "dialog.messenger_reply_created")
        .map(|e| {
            chat_platform::events::MessageCreated::decode(&e.envelope)
                .unwrap()
                .message
                .id
        })
        .collect();
    assert_eq!(for_bridge, [telegram.id]);
    t.stop().await;
}

#[tokio::test]
async fn the_standard_grpc_health_service_answers_for_the_dialog_service() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let t = TestDialog::start().await;
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{}", t.grpc_port))
            .unwrap()
            .connect()
            .await
            .expect("gRPC reachable");
    let mut health = HealthClient::new(channel);
    let ask = |service: &str| HealthCheckRequest {
        service: service.into(),
    };
    for service in ["chat.dialog.v1.DialogService", ""] {
        let answer = health.check(ask(service)).await.expect("known service");
        assert_eq!(
            answer.into_inner().status(),
            ServingStatus::Serving,
            "{service:?}"
        );
    }
    let unknown = health
        .check(ask("chat.nothing.v1.Nothing"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    t.stop().await;
}

#[tokio::test]
async fn health_checks_answer_and_readiness_sees_database_and_nats() {
    let t = TestDialog::start().await;
    let base = format!("http://127.0.0.1:{}", t.ops_port);
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    // Ready once its database and NATS answer (NATS connects in the background).
    let body = chat_testkit::eventually("readiness", || async {
        let ready = reqwest::get(format!("{base}/readyz")).await.ok()?;
        (ready.status() == 200).then_some(())?;
        ready.json::<serde_json::Value>().await.ok()
    })
    .await;
    assert_eq!(body, serde_json::json!({"database": true, "nats": true}));
    t.stop().await;
}

#[tokio::test]
async fn a_burst_across_dialogs_numbers_each_dialog_and_fails_only_the_bad_post() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let visitors: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    // Posts that arrive together share transactions (group commit); a post to
    // an unknown dialog and repeated client ids ride in the same bursts.
    let sends = (0..40).map(|i| {
        let (t, visitor) = (&t, visitors[i % 5]);
        async move {
            let client_id = format!("c{}", i / 10); // each id four times per visitor
            t.visitor_says(account, visitor, &client_id, &format!("m{i}"))
                .await
                .map(|p| (visitor, p))
        }
    });
    let nowhere = Uuid::now_v7().to_string();
    let unknown = t.manager_says(account, &nowhere, "m1", "lost");
    let (posted, unknown) = futures::join!(futures::future::join_all(sends), unknown);
    assert_eq!(unknown.unwrap_err().code(), Code::NotFound);

    for visitor in &visitors {
        let mine: Vec<_> = posted
            .iter()
            .map(|p| p.as_ref().unwrap())
            .filter(|(v, _)| v == visitor)
            .map(|(_, p)| p)
            .collect();
        let stored: Vec<_> = mine.iter().filter(|p| !p.duplicate).collect();
        assert_eq!(stored.len(), 4, "one message per client id");
        let mut numbers: Vec<i64> = stored
            .iter()
            .map(|p| p.message.as_ref().unwrap().seq)
            .collect();
        numbers.sort();
        assert_eq!(numbers, [1, 2, 3, 4]);
        // Every repeat answers with the message its id stored.
        for repeat in mine.iter().filter(|p| p.duplicate) {
            let m = repeat.message.as_ref().unwrap();
            let first = stored
                .iter()
                .map(|p| p.message.as_ref().unwrap())
                .find(|s| s.client_message_id == m.client_message_id)
                .unwrap();
            assert_eq!(m.id, first.id);
        }
    }
    assert_eq!(t.count("dialog.message").await, 20);
    assert_eq!(t.count("dialog.dialog").await, 5);
    t.stop().await;
}

#[tokio::test]
async fn visitors_and_managers_posting_into_the_same_dialogs_at_once_never_deadlock() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let visitors: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
    let mut dialogs = Vec::new();
    // Dialogs opened in the opposite order of their contacts' ids (both
    // kinds of id grow with time).
    for visitor in visitors.iter().rev() {
        let first = t
            .visitor_says(account, *visitor, "hello", "hello")
            .await
            .unwrap();
        dialogs.push(first.message.unwrap().dialog_id);
    }
    // Visitors name their contact and managers the dialog: without one lock
    // order, groups holding both kinds of post for the same dialogs lock
    // them in opposite orders. Sent all at once, so that posts queue up and
    // the writers take them in groups.
    const ROUNDS: usize = 20;
    let visitors_say = (0..ROUNDS)
        .flat_map(|round| visitors.iter().map(move |v| (round, *v)))
        .map(|(round, v)| {
            let t = &t;
            async move { t.visitor_says(account, v, &format!("v{round}"), "hi").await }
        });
    let managers_say = (0..ROUNDS)
        .flat_map(|round| dialogs.iter().rev().map(move |d| (round, d)))
        .map(|(round, d)| {
            let t = &t;
            async move {
                t.manager_says(account, d, &format!("m{round}"), "hello")
                    .await
            }
        });
    let (said, answered) = futures::join!(
        futures::future::join_all(visitors_say),
        futures::future::join_all(managers_say)
    );
    assert!(said.iter().chain(&answered).all(|r| r.is_ok()));
    assert_eq!(t.count("dialog.message").await, 8 + 8 * 2 * ROUNDS as i64);

    // PostgreSQL counts the deadlocks it broke in each database, as each
    // backend reports them: at the latest when it exits. So the service's
    // connections close first; then one deadlock is made on purpose, and
    // once it is counted every earlier one is too.
    let env = t.stop_keeping_data().await;
    let pool = env.pool().await;
    chat_testkit::eventually("the service's connections to close", || async {
        let open: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity \
             where datname = current_database() and application_name = 'dialog'",
        )
        .fetch_one(&pool)
        .await
        .ok()?;
        (open == 0).then_some(())
    })
    .await;
    env.db.make_a_deadlock().await;
    let deadlocks: i64 =
        chat_testkit::eventually("the deadlock made on purpose to be counted", || async {
            let n: i64 = sqlx::query_scalar(
                "select deadlocks from pg_stat_database where datname = current_database()",
            )
            .fetch_one(&pool)
            .await
            .ok()?;
            (n >= 1).then_some(n)
        })
        .await;
    assert_eq!(deadlocks, 1, "only the one made on purpose");
    pool.close().await;
    env.cleanup().await;
}

#[tokio::test]
async fn a_reply_goes_where_the_contact_last_wrote_from_unless_the_manager_chooses() {
    let t = TestDialog::start().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());
    let first = t.visitor_says(account, contact, "v1", "hi").await.unwrap();
    let dialog_id = first.message.unwrap().dialog_id;
    let reply_channel = |posted: pb::PostMessageResponse| posted.message.unwrap().channel();
    let unchosen = || Reply {
        manager_id: Uuid::now_v7(),
        channel: pb::Channel::Unspecified,
    };

    let site = t
        .reply(account, &dialog_id, unchosen(), "m1", "here")
        .await
        .unwrap();
    assert_eq!(
        reply_channel(site),
        pb::Channel::Site,
        "they wrote from the site"
    );

    // A channel they never wrote from is refused, by field, and nothing is stored.
    let through_vk = Reply {
        manager_id: Uuid::now_v7(),
        channel: pb::Channel::Vk,
    };
    let refused = t
        .reply(account, &dialog_id, through_vk, "m-vk", "via VK")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("channel") && refused.message().contains("site"),
        "{}",
        refused.message()
    );

    // The same person writes from Telegram (the bridge posts it so).
    t.contact_writes_from(
        pb::Channel::Telegram,
        account,
        contact,
        "telegram:1:1",
        "from my phone",
    )
    .await
    .unwrap();
    let dialog = t
        .client
        .clone()
        .get_dialog(pb::GetDialogRequest {
            account_id: account.to_string(),
            dialog_id: dialog_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        dialog.reply_channels().collect::<Vec<_>>(),
        [pb::Channel::Site, pb::Channel::Telegram],
        "the channels they wrote from, first used first"
    );
    assert_eq!(dialog.reply_channel(), pb::Channel::Telegram);
    let telegram = t
        .reply(account, &dialog_id, unchosen(), "m2", "got it")
        .await
        .unwrap();
    assert_eq!(reply_channel(telegram), pb::Channel::Telegram);

    // A chosen channel wins.
    let chosen = Reply {
        manager_id: Uuid::now_v7(),
        channel: pb::Channel::Site,
    };
    let site = t
        .reply(account, &dialog_id, chosen, "m3", "on the site")
        .await
        .unwrap();
    assert_eq!(reply_channel(site), pb::Channel::Site);
    // Its retry naming another channel is the same message, not a refusal.
    let retry = Reply {
        manager_id: Uuid::now_v7(),
        channel: pb::Channel::Vk,
    };
    let again = t
        .reply(account, &dialog_id, retry, "m3", "on the site")
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(reply_channel(again), pb::Channel::Site);
    let page = t.messages(account, &dialog_id, 0, 0, 0).await.unwrap();
    assert!(
        page.messages.iter().all(|m| m.client_message_id != "m-vk"),
        "the refused reply was not stored"
    );
    assert_eq!(page.messages.len(), 5);
    t.stop().await;
}

#[tokio::test]
async fn a_delivery_state_is_set_once_published_and_walled_by_account() {
    let t = TestDialog::start().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());
    let bus = t.env.bus().await;
    let first = t
        .contact_writes_from(pb::Channel::Telegram, account, contact, "v1", "hi")
        .await
        .unwrap();
    let dialog_id = first.message.unwrap().dialog_id;
    let through = Reply {
        manager_id: Uuid::now_v7(),
        channel: pb::Channel::Telegram,
    };
    let sent = t
        .reply(account, &dialog_id, through, "m1", "hello")
        .await
        .unwrap()
        .message
        .unwrap();
    assert_eq!(sent.delivery_state(), pb::DeliveryState::Stored);
    let set = |account: Uuid, state: pb::DeliveryState, error: &str| {
        let mut client = t.client.clone();
        let request = pb::SetDeliveryStateRequest {
            account_id: account.to_string(),
            message_id: sent.id.clone(),
            state: state as i32,
            error: error.into(),
        };
        async move { client.set_delivery_state(request).await }
    };

    let elsewhere = set(Uuid::now_v7(), pb::DeliveryState::Delivered, "")
        .await
        .unwrap_err();
    assert_eq!(
        elsewhere.code(),
        Code::NotFound,
        "another account's message"
    );
    let back = set(account, pb::DeliveryState::Stored, "")
        .await
        .unwrap_err();
    assert_eq!(back.code(), Code::InvalidArgument);

    let failed = set(
        account,
        pb::DeliveryState::Failed,
        "Forbidden: bot was blocked by the user",
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(failed.delivery_state(), pb::DeliveryState::Failed);
    assert_eq!(
        failed.delivery_error,
        "Forbidden: bot was blocked by the user"
    );
    // A late report does not undo a final state.
    let late = set(account, pb::DeliveryState::Delivered, "")
        .await
        .unwrap()
        .into_inner();
    assert_eq!(late.delivery_state(), pb::DeliveryState::Failed);

    // One message_updated was published: once a later message's event is
    // on the stream, every earlier event is.
    t.visitor_says(account, contact, "v2", "still there?")
        .await
        .unwrap();
    let events = chat_testkit::eventually("the later message's event", || async {
        let events = t.env.events(&bus).await;
        let created =
            |e: &&chat_testkit::env::StoredEvent| e.envelope.r#type == "dialog.message_created";
        (events.iter().filter(created).count() == 3).then_some(events)
    })
    .await;
    let updates = events
        .iter()
        .filter(|e| e.envelope.r#type == "dialog.message_updated")
        .count();
    assert_eq!(updates, 1);
    t.stop().await;
}

/// An e-mail can bounce after it was sent: `failed` replaces `emailed` (a
/// site reply the visitor got by e-mail) and `delivered` of a reply by
/// e-mail, but never a messenger's `delivered`.
#[tokio::test]
async fn a_bounce_fails_an_emailed_reply_but_no_messengers_delivery() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let on_site = t
        .visitor_says(account, Uuid::now_v7(), "v1", "hi")
        .await
        .unwrap()
        .message
        .unwrap()
        .dialog_id;
    // Their address, as the contact service's event would bring it.
    let pool = t.env.schema_pool("dialog").await;
    sqlx::query("update dialog set contact_email = 'gone@buyer.example' where id = $1::uuid")
        .bind(&on_site)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let on_telegram = t
        .contact_writes_from(pb::Channel::Telegram, account, Uuid::now_v7(), "v2", "hi")
        .await
        .unwrap()
        .message
        .unwrap()
        .dialog_id;
    let set = |message_id: String, state: pb::DeliveryState| {
        let mut client = t.client.clone();
        let request = pb::SetDeliveryStateRequest {
            account_id: account.to_string(),
            message_id,
            state: state as i32,
            error: match state {
                pb::DeliveryState::Failed => "5.1.1 smtp; 550 user unknown".into(),
                _ => String::new(),
            },
        };
        async move {
            client
                .set_delivery_state(request)
                .await
                .unwrap()
                .into_inner()
        }
    };
    let mut replies = Vec::new();
    for (n, dialog_id, channel, sent) in [
        (1, &on_site, pb::Channel::Site, pb::DeliveryState::Emailed),
        (
            2,
            &on_site,
            pb::Channel::Email,
            pb::DeliveryState::Delivered,
        ),
        (
            3,
            &on_telegram,
            pb::Channel::Telegram,
            pb::DeliveryState::Delivered,
        ),
    ] {
        let through = Reply {
            manager_id: Uuid::now_v7(),
            channel,
        };
        let reply = t
            .reply(account, dialog_id, through, &format!("m{n}"), "hello")
            .await
            .unwrap()
            .message
            .unwrap();
        assert_eq!(set(reply.id.clone(), sent).await.delivery_state(), sent);
        replies.push(reply.id);
    }
    let mut states = Vec::new();
    for id in &replies {
        let message = set(id.clone(), pb::DeliveryState::Failed).await;
        states.push((message.delivery_state(), message.delivery_error));
    }
    let bounced = (
        pb::DeliveryState::Failed,
        "5.1.1 smtp; 550 user unknown".to_owned(),
    );
    assert_eq!(
        states,
        vec![
            bounced.clone(),
            bounced,
            (pb::DeliveryState::Delivered, String::new())
        ]
    );
    t.stop().await;
}
