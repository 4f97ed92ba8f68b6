//! Telegram through the bridge's webhook, end to end: a person's message
//! becomes a message of their contact's dialog in the shop's console (named
//! from their profile, marked as Telegram), once however often Telegram
//! delivers it; a wrong secret, an unknown integration or an unreadable
//! update is answered as Telegram expects and stores nothing.

use serde_json::{Value, json};

use crate::helpers::{
    TestSuite, delivered_or_failed, dialog_texts, integrations, reply, telegram_text,
    until_messages,
};
use chat_testkit::clients::Api;

fn telegram(text: &str) -> (String, String) {
    (text.to_owned(), "telegram".to_owned())
}

#[tokio::test]
async fn a_telegram_message_arrives_in_the_console_once_however_often_telegram_delivers_it() {
    let t = TestSuite::start().await;
    let shop = t.shop("Tea").await;
    let bot = t.connect_telegram(&shop).await;
    let api = t.manager_api(&shop).await;

    let first = telegram_text(1001, 42, "Анна", "Здравствуйте! Есть ли улун?");
    assert_eq!(bot.deliver(&first).await, 200);
    // Telegram did not hear the answer and delivers the update again.
    assert_eq!(bot.deliver(&first).await, 200);
    let second = telegram_text(1002, 42, "Анна", "<b>и пуэр</b>");
    assert_eq!(bot.deliver(&second).await, 200);

    let dialogs = until_messages(&api, 2).await;
    assert_eq!(dialogs.len(), 1, "one person, one dialog: {dialogs:?}");
    let (dialog, messages) = &dialogs[0];
    assert_eq!(
        messages,
        &[
            telegram("Здравствуйте! Есть ли улун?"),
            telegram("<b>и пуэр</b>")
        ]
    );
    assert_eq!(
        dialog["contact_name"], "Анна Петрова",
        "named from the profile"
    );

    // The contact is known by their Telegram id, and can be reached there.
    let contact_id = dialog["contact_id"].as_str().unwrap();
    let (status, contact) = api.get(&format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["name"], "Анна Петрова");
    assert_eq!(contact["channels"], json!(["telegram"]), "{contact}");
    t.stop().await;
}

#[tokio::test]
async fn two_people_writing_to_the_bot_get_a_dialog_each() {
    let t = TestSuite::start().await;
    let shop = t.shop("Tea").await;
    let bot = t.connect_telegram(&shop).await;
    let api = t.manager_api(&shop).await;

    assert_eq!(bot.deliver(&telegram_text(1, 42, "Анна", "hi")).await, 200);
    assert_eq!(
        bot.deliver(&telegram_text(2, 43, "Борис", "hello")).await,
        200
    );

    let dialogs = until_messages(&api, 2).await;
    let mut names: Vec<&str> = dialogs
        .iter()
        .map(|(d, _)| d["contact_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Анна Петрова", "Борис Петрова"]);
    t.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_an_unknown_integration_or_an_unreadable_update_stores_nothing() {
    let t = TestSuite::start().await;
    let shop = t.shop("Tea").await;
    let bot = t.connect_telegram(&shop).await;
    let api = t.manager_api(&shop).await;
    let refused = telegram_text(1, 42, "Анна", "should not arrive");

    let wrong = bot
        .deliver_raw(refused.to_string(), Some("not-the-secret"))
        .await;
    assert_eq!(wrong, 401, "a wrong secret token");
    assert_eq!(
        bot.deliver_raw(refused.to_string(), None).await,
        401,
        "no secret token"
    );
    let elsewhere = crate::helpers::TelegramWebhook {
        url: format!(
            "http://127.0.0.1:{}/webhooks/telegram/{}",
            t.suite().ops_ports.bridge,
            uuid::Uuid::now_v7()
        ),
        secret: bot.secret.clone(),
    };
    assert_eq!(
        elsewhere.deliver(&refused).await,
        404,
        "no such integration"
    );
    // Acknowledged, or Telegram would deliver them for a day.
    for unreadable in ["not json", r#"{"update_id": "x"}"#, "[]"] {
        let status = bot
            .deliver_raw(unreadable.to_owned(), Some(&bot.secret))
            .await;
        assert_eq!(status, 200, "{unreadable}");
    }
    let group = json!({"update_id": 2, "message": {
        "message_id": 1, "date": 1, "text": "group chatter",
        "from": {"id": 42, "is_bot": false, "first_name": "A"},
        "chat": {"id": -100, "type": "group", "title": "G"}}});
    assert_eq!(
        bot.deliver(&group).await,
        200,
        "a group's message is none of ours"
    );

    // A later good update arrives, and it is all there is.
    assert_eq!(
        bot.deliver(&telegram_text(3, 42, "Анна", "only this"))
            .await,
        200
    );
    let dialogs = until_messages(&api, 1).await;
    assert_eq!(dialogs.len(), 1);
    assert_eq!(dialogs[0].1, [telegram("only this")]);
    t.stop().await;
}

#[tokio::test]
async fn a_shops_bot_writes_only_into_that_shops_console() {
    let t = TestSuite::start().await;
    let (tea, coffee) = (t.shop("Tea").await, t.shop("Coffee").await);
    let (tea_bot, coffee_bot) = (
        t.connect_telegram(&tea).await,
        t.connect_telegram(&coffee).await,
    );
    let (tea_api, coffee_api) = (t.manager_api(&tea).await, t.manager_api(&coffee).await);

    // The same person (same Telegram id) writes to both shops' bots.
    assert_eq!(
        tea_bot
            .deliver(&telegram_text(1, 42, "Анна", "to tea"))
            .await,
        200
    );
    assert_eq!(
        coffee_bot
            .deliver(&telegram_text(1, 42, "Анна", "to coffee"))
            .await,
        200
    );

    let tea_dialogs = until_messages(&tea_api, 1).await;
    let coffee_dialogs = until_messages(&coffee_api, 1).await;
    assert_eq!(tea_dialogs.len(), 1);
    assert_eq!(tea_dialogs[0].1, [telegram("to tea")]);
    assert_eq!(coffee_dialogs.len(), 1);
    assert_eq!(coffee_dialogs[0].1, [telegram("to coffee")]);
    assert_ne!(
        tea_dialogs[0].0["contact_id"], coffee_dialogs[0].0["contact_id"],
        "each shop has a contact of its own"
    );
    t.stop().await;
}

const BOT_TOKEN: &str = "777001:tea-shop-bot-token";

fn anna() -> chat_fakes::telegram::Person {
    chat_fakes::telegram::Person {
        id: 4242,
        first_name: "Анна".into(),
        last_name: Some("Петрова".into()),
        username: None,
    }
}

/// Connects the fake's bot with this token, as an owner does in the console.
async fn connect_bot(api: &Api, token: &str) -> (u16, Value) {
    api.put("/api/v1/integrations/telegram", json!({"bot_token": token}))
        .await
}

#[tokio::test]
async fn an_admin_connects_a_bot_and_its_people_write_through_long_polling() {
    let t = TestSuite::start().await;
    t.telegram.make_bot(BOT_TOKEN, "tea_shop_bot");
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;

    let (status, connected) = connect_bot(&api, BOT_TOKEN).await;
    assert_eq!(status, 200, "{connected}");
    assert_eq!(connected["channel"], "telegram");
    assert_eq!(connected["name"], "@tea_shop_bot");
    assert_eq!(
        connected["mode"], "polling",
        "the suite has no public address"
    );
    assert_eq!(connected["health"]["token_valid"], true);
    // Not shown as broken in the seconds before a poller takes it up.
    assert_eq!(connected["health"]["receiving"], true, "{connected}");
    assert_eq!(connected["health"]["healthy"], true, "{connected}");
    assert!(
        !connected.to_string().contains("tea-shop-bot-token"),
        "{connected}"
    );

    t.telegram
        .person_writes(BOT_TOKEN, &anna(), "Добрый день")
        .unwrap();
    let dialogs = until_messages(&api, 1).await;
    assert_eq!(dialogs[0].1, [telegram("Добрый день")]);
    assert_eq!(dialogs[0].0["contact_name"], "Анна Петрова");

    // Its health is recorded once the message is stored, just after.
    let listed = chat_testkit::eventually("the update in the health", || async {
        let listed = integrations(&api).await;
        listed[0]["health"]["last_update_at"]
            .is_string()
            .then_some(listed)
    })
    .await;
    assert_eq!(listed.len(), 1);
    let health = &listed[0]["health"];
    assert_eq!(health["healthy"], true, "{health}");
    assert_eq!(health["receiving"], true, "a poller is alive");
    assert!(health["last_update_at"].is_string(), "{health}");
    assert!(!json!(listed).to_string().contains("tea-shop-bot-token"));
    t.stop().await;
}

#[tokio::test]
async fn with_a_public_address_the_bot_delivers_by_webhook() {
    let t = TestSuite::start_with(crate::helpers::Options {
        webhooks: true,
        ..Default::default()
    })
    .await;
    t.telegram.make_bot(BOT_TOKEN, "tea_shop_bot");
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;

    let (status, connected) = connect_bot(&api, BOT_TOKEN).await;
    assert_eq!(status, 200, "{connected}");
    assert_eq!(connected["mode"], "webhook");
    assert_eq!(connected["health"]["receiving"], true, "{connected}");
    let hook = t.telegram.webhook_url(BOT_TOKEN).expect("a webhook is set");
    assert!(hook.ends_with(&format!(
        "/webhooks/telegram/{}",
        connected["id"].as_str().unwrap()
    )));

    t.telegram
        .person_writes(BOT_TOKEN, &anna(), "через вебхук")
        .unwrap();
    let dialogs = until_messages(&api, 1).await;
    assert_eq!(dialogs[0].1, [telegram("через вебхук")]);

    // Disconnected: the webhook is gone, and so is the integration.
    let (status, body) = api.delete("/api/v1/integrations/telegram").await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(t.telegram.webhook_url(BOT_TOKEN), None);
    assert!(integrations(&api).await.is_empty());
    t.stop().await;
}

#[tokio::test]
async fn bad_tokens_and_channels_are_refused_and_only_owners_and_admins_connect() {
    let t = TestSuite::start().await;
    t.telegram.make_bot(BOT_TOKEN, "tea_shop_bot");
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;

    for (body, field) in [
        (json!({"bot_token": "999999:unknown"}), "bot_token"),
        (json!({"bot_token": "not a token"}), "bot_token"),
        (json!({}), "bot_token"),
    ] {
        let (status, refused) = api.put("/api/v1/integrations/telegram", body.clone()).await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert!(refused["error"]["fields"][field].is_string(), "{refused}");
    }
    let (status, refused) = api
        .put("/api/v1/integrations/icq", json!({"bot_token": BOT_TOKEN}))
        .await;
    assert_eq!(status, 422, "{refused}");
    let (status, refused) = api
        .put(
            "/api/v1/integrations/telegram",
            json!({"bot_token": BOT_TOKEN, "extra": 1}),
        )
        .await;
    assert_eq!(status, 422, "unknown fields: {refused}");

    let agent_email = t.colleague(&shop, "Agent", "manager").await;
    let agent = Api::login(t.port, &agent_email, &shop.password).await;
    let (status, refused) = connect_bot(&agent, BOT_TOKEN).await;
    assert_eq!(status, 403, "{refused}");
    assert!(integrations(&api).await.is_empty(), "nothing was connected");

    // An admin's good token goes through, and a plain manager sees its health.
    let (status, _) = connect_bot(&api, BOT_TOKEN).await;
    assert_eq!(status, 200);
    assert_eq!(integrations(&agent).await.len(), 1);
    let (status, _) = agent.delete("/api/v1/integrations/telegram").await;
    assert_eq!(status, 403, "nor do plain managers disconnect");
    t.stop().await;
}

#[tokio::test]
async fn a_shops_integrations_are_its_own() {
    let t = TestSuite::start().await;
    t.telegram.make_bot(BOT_TOKEN, "tea_shop_bot");
    let (tea, coffee) = (t.shop("Tea").await, t.shop("Coffee").await);
    let (tea_api, coffee_api) = (t.manager_api(&tea).await, t.manager_api(&coffee).await);
    let (status, _) = connect_bot(&tea_api, BOT_TOKEN).await;
    assert_eq!(status, 200);

    assert!(
        integrations(&coffee_api).await.is_empty(),
        "coffee sees none of tea's"
    );
    let (status, refused) = connect_bot(&coffee_api, BOT_TOKEN).await;
    assert_eq!(status, 422, "tea's bot is not coffee's to take: {refused}");
    assert_eq!(
        refused["error"]["fields"]["bot_token"],
        "this bot is connected to another account"
    );
    let (status, _) = coffee_api.delete("/api/v1/integrations/telegram").await;
    assert_eq!(status, 404, "nor can it disconnect tea's");
    assert_eq!(
        integrations(&tea_api).await.len(),
        1,
        "tea's is still there"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_reply_to_a_telegram_person_goes_out_through_telegram_by_default() {
    let t = TestSuite::start().await;
    let shop = t.shop("Tea").await;
    let bot = t.connect_telegram(&shop).await;
    let api = t.manager_api(&shop).await;
    assert_eq!(bot.deliver(&telegram_text(1, 42, "Анна", "hi")).await, 200);
    let dialogs = until_messages(&api, 1).await;
    let dialog_id = dialogs[0].0["id"].as_str().unwrap().to_owned();

    let (status, posted) = api
        .post(
            &format!("/api/v1/dialogs/{dialog_id}/messages"),
            json!({"client_message_id": "r1", "text": "Здравствуйте!"}),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    let reply = &posted["message"];
    assert_eq!(
        reply["channel"], "telegram",
        "where she wrote from: {reply}"
    );
    assert_eq!(
        reply["delivery_state"], "stored",
        "not taken by Telegram yet"
    );
    assert_eq!(reply["delivery_error"], Value::Null);

    // The bridge queued it for Telegram, once.
    let pool = t.env().pool().await;
    let message_id = uuid::Uuid::parse_str(reply["id"].as_str().unwrap()).unwrap();
    let queued = chat_testkit::eventually("the reply in the delivery log", || async {
        let channels: Vec<String> =
            sqlx::query_scalar("select channel from channel_bridge.delivery where message_id = $1")
                .bind(message_id)
                .fetch_all(&pool)
                .await
                .unwrap();
        (!channels.is_empty()).then_some(channels)
    })
    .await;
    assert_eq!(queued, ["telegram"]);
    pool.close().await;
    t.stop().await;
}

#[tokio::test]
async fn a_manager_chooses_among_the_channels_the_person_wrote_from_and_no_other() {
    let t = TestSuite::start().await;
    let shop = t.shop("Tea").await;
    let bot = t.connect_telegram(&shop).await;
    let api = t.manager_api(&shop).await;
    assert_eq!(bot.deliver(&telegram_text(1, 42, "Анна", "hi")).await, 200);
    let dialogs = until_messages(&api, 1).await;
    let dialog = &dialogs[0].0;
    let dialog_id = dialog["id"].as_str().unwrap().to_owned();
    assert_eq!(dialog["channels"], json!(["telegram"]), "{dialog}");
    assert_eq!(dialog["reply_channel"], "telegram");
    let path = format!("/api/v1/dialogs/{dialog_id}/messages");

    // She never wrote from the site chat: refused by field, nothing stored.
    let (status, body) = api
        .post(
            &path,
            json!({"client_message_id": "r1", "text": "On the site?", "channel": "site"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let why = body["error"]["fields"]["channel"]
        .as_str()
        .unwrap_or_default();
    assert!(
        why.contains("telegram"),
        "says where she wrote from: {body}"
    );
    let (status, body) = api
        .post(
            &path,
            json!({"client_message_id": "r2", "text": "By fax?", "channel": "fax"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["channel"].is_string(), "{body}");

    // Chosen explicitly, the channel she wrote from works.
    let (status, posted) = api
        .post(
            &path,
            json!({"client_message_id": "r3", "text": "Yes!", "channel": "telegram"}),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    assert_eq!(posted["message"]["channel"], "telegram");
    assert_eq!(
        dialog_texts(&api, &dialog_id).await,
        ["hi", "Yes!"],
        "the refused replies were not stored"
    );
    t.stop().await;
}

/// A shop with the fake's bot connected (polling), a person who wrote to
/// it, and the dialog that opened.
async fn shop_with_a_telegram_person(t: &TestSuite, token: &str) -> (Api, String) {
    t.telegram.make_bot(token, "tea_shop_bot");
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;
    let (status, body) = connect_bot(&api, token).await;
    assert_eq!(status, 200, "{body}");
    t.telegram
        .person_writes(token, &anna(), "Здравствуйте")
        .unwrap();
    let dialogs = until_messages(&api, 1).await;
    (api, dialogs[0].0["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_reply_reaches_the_person_in_telegram_once_and_shows_as_delivered() {
    let t = TestSuite::start().await;
    let token = "777101:send-bot";
    let (api, dialog_id) = shop_with_a_telegram_person(&t, token).await;

    let id = reply(&api, &dialog_id, "telegram", "Добрый день! Улун есть.").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "delivered", "{message}");
    let sent = t.telegram.sent(token);
    assert_eq!(sent.len(), 1, "once: {sent:?}");
    assert_eq!(sent[0]["text"], "Добрый день! Улун есть.");
    assert_eq!(sent[0]["chat"]["id"], anna().id, "to her private chat");
    t.stop().await;
}

#[tokio::test]
async fn a_throttled_reply_waits_as_telegram_asks_then_goes_once() {
    let t = TestSuite::start().await;
    let token = "777102:throttled-bot";
    let (api, dialog_id) = shop_with_a_telegram_person(&t, token).await;

    t.telegram.throttle(token, 2, 1);
    let id = reply(&api, &dialog_id, "telegram", "one moment").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "delivered", "{message}");
    assert_eq!(t.telegram.sent(token).len(), 1);
    t.stop().await;
}

#[tokio::test]
async fn a_reply_telegram_refuses_shows_as_failed_with_its_reason() {
    let t = TestSuite::start().await;
    let token = "777103:blocked-bot";
    let (api, dialog_id) = shop_with_a_telegram_person(&t, token).await;

    t.telegram.block(token, anna().id);
    let id = reply(&api, &dialog_id, "telegram", "are you there?").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "failed", "{message}");
    assert_eq!(
        message["delivery_error"],
        "Forbidden: bot was blocked by the user"
    );
    assert!(t.telegram.sent(token).is_empty());
    t.stop().await;
}

#[tokio::test]
async fn a_reply_refused_for_a_revoked_token_shows_the_bot_as_broken_at_once() {
    // By webhook (no poller to notice) and with the periodic check an hour
    // away: only the refused reply can tell.
    let t = TestSuite::start_with(crate::helpers::Options {
        webhooks: true,
        bridge_health_check_secs: 3600,
        ..Default::default()
    })
    .await;
    let token = "777105:revoked-before-a-reply";
    let (api, dialog_id) = shop_with_a_telegram_person(&t, token).await;
    chat_testkit::eventually("the healthy bot", || async {
        (integrations(&api).await[0]["health"]["healthy"] == true).then_some(())
    })
    .await;

    t.telegram.revoke(token);
    let id = reply(&api, &dialog_id, "telegram", "are you there?").await;
    let message = delivered_or_failed(&api, &dialog_id, &id).await;
    assert_eq!(message["delivery_state"], "failed", "{message}");
    let health = chat_testkit::eventually("the refused token in the health", || async {
        let health = integrations(&api).await[0]["health"].clone();
        (health["token_valid"] == false).then_some(health)
    })
    .await;
    assert_eq!(health["healthy"], false, "{health}");
    assert!(health["last_error"].is_string(), "{health}");
    t.stop().await;
}

#[tokio::test]
async fn a_revoked_token_shows_as_unhealthy_before_anyone_writes() {
    let t = TestSuite::start().await;
    let token = "777104:revoked-bot";
    t.telegram.make_bot(token, "tea_shop_bot");
    let shop = t.shop("Tea").await;
    let api = t.manager_api(&shop).await;
    let (status, connected) = connect_bot(&api, token).await;
    assert_eq!(status, 200, "{connected}");
    let id = connected["id"].as_str().unwrap();
    // Its health is in the bridge's metrics too, for alerts.
    let gauge = |name| t.integration_gauge(name, id);
    chat_testkit::eventually("the healthy bot in the metrics", || async {
        (gauge("bridge_integration_healthy").await == Some(1.0)).then_some(())
    })
    .await;
    assert_eq!(gauge("bridge_integration_token_valid").await, Some(1.0));
    assert_eq!(gauge("bridge_integration_receiving").await, Some(1.0));

    t.telegram.revoke(token);
    let health = chat_testkit::eventually("the revoked token in the health", || async {
        let listed = integrations(&api).await;
        let health = listed[0]["health"].clone();
        (health["token_valid"] == false && health["last_error"].is_string()).then_some(health)
    })
    .await;
    assert_eq!(health["healthy"], false, "{health}");
    assert!(
        health["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("no longer knows this bot token")),
        "{health}"
    );
    chat_testkit::eventually("the broken bot in the metrics", || async {
        (gauge("bridge_integration_healthy").await == Some(0.0)).then_some(())
    })
    .await;
    assert_eq!(gauge("bridge_integration_token_valid").await, Some(0.0));
    assert!(
        gauge("bridge_integration_last_error_timestamp_seconds")
            .await
            .is_some_and(|at| at > 1.7e9),
        "when it failed"
    );

    // Disconnected, it alerts no more: its gauges turn NaN.
    let (status, body) = api.delete("/api/v1/integrations/telegram").await;
    assert_eq!(status, 204, "{body}");
    chat_testkit::eventually("the disconnected bot out of the alerts", || async {
        gauge("bridge_integration_healthy")
            .await
            .is_some_and(f64::is_nan)
            .then_some(())
    })
    .await;
    t.stop().await;
}

#[tokio::test]
async fn photos_and_documents_open_from_their_links_in_the_shops_console_and_no_other() {
    let t = TestSuite::start().await;
    let token = "777301:files-bot";
    let (api, _) = shop_with_a_telegram_person(&t, token).await;

    t.telegram
        .person_sends_photo(token, &anna(), Some("вот этот"))
        .unwrap();
    t.telegram
        .person_sends_document(
            token,
            &anna(),
            "page.html",
            "text/html",
            b"<script>alert(1)</script>".to_vec(),
        )
        .unwrap();
    let dialogs = until_messages(&api, 3).await;
    let texts: Vec<&str> = dialogs[0].1.iter().map(|(text, _)| text.as_str()).collect();
    let link = |line: &str| {
        line.split_whitespace()
            .find(|word| word.starts_with("/api/v1/files/telegram/"))
            .unwrap_or_else(|| panic!("a file link in {line:?}"))
            .to_owned()
    };
    let (caption, photo_line) = texts[1].split_once('\n').expect("caption, then the photo");
    assert_eq!(caption, "вот этот");
    assert!(photo_line.starts_with("[photo] "), "{photo_line}");
    let photo = link(photo_line);
    assert!(
        texts[2].starts_with("[document: page.html] "),
        "{}",
        texts[2]
    );
    let document = link(texts[2]);
    assert!(
        document.ends_with("?name=page.html"),
        "the name the person gave: {document}"
    );
    assert!(
        !texts.concat().contains(token),
        "the bot's token is in no message"
    );

    // The largest size of the photo, shown inline.
    let (status, headers, bytes) = api.get_bytes(&photo).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, chat_fakes::telegram::PHOTO_JPEG);
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");

    // A person's HTML only ever downloads, sandboxed: it never runs in the console.
    let (status, headers, bytes) = api.get_bytes(&document).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, b"<script>alert(1)</script>");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(
        headers["content-disposition"], "attachment; filename=\"page.html\"",
        "saved under the person's name, not Telegram's file_0.html"
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );

    // A name that is empty or too long is refused, and nothing is fetched.
    let bare = document.split_once('?').unwrap().0;
    for name in ["", "%20", &"a".repeat(256)] {
        let (status, _, body) = api.get_bytes(&format!("{bare}?name={name}")).await;
        assert_eq!(status, 422, "{name:?}: {}", String::from_utf8_lossy(&body));
        assert!(String::from_utf8_lossy(&body).contains("\"name\""));
    }

    // Unknown, malformed or of another channel: 404; signed out: 401.
    for path in [
        "/api/v1/files/telegram/AgACAgIAAxkBAAInope".to_owned(),
        "/api/v1/files/telegram/bad%20id".to_owned(),
        photo.replace("/telegram/", "/vk/"),
    ] {
        let (status, _, body) = api.get_bytes(&path).await;
        assert_eq!(status, 404, "{path}: {}", String::from_utf8_lossy(&body));
    }
    let (status, _, _) = Api::new(t.port).get_bytes(&photo).await;
    assert_eq!(status, 401);

    // Another shop, with a bot of its own, cannot open this shop's files.
    t.telegram.make_bot("777302:other-bot", "other_shop_bot");
    let other = t.shop("Other").await;
    let other_api = t.manager_api(&other).await;
    let (status, body) = connect_bot(&other_api, "777302:other-bot").await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = other_api.get_bytes(&photo).await;
    assert_eq!(status, 404, "the file was sent to another shop's bot");
    t.stop().await;
}

#[tokio::test]
async fn a_file_too_big_or_from_a_revoked_bot_is_refused_saying_why() {
    let t = TestSuite::start().await;
    let token = "777303:big-files-bot";
    let (api, _) = shop_with_a_telegram_person(&t, token).await;
    let big = vec![0u8; chat_fakes::telegram::MAX_DOWNLOAD_BYTES + 1];
    t.telegram
        .person_sends_document(token, &anna(), "video.mp4", "video/mp4", big)
        .unwrap();
    let dialogs = until_messages(&api, 2).await;
    let text = &dialogs[0].1[1].0;
    let link = text.split_whitespace().last().unwrap();
    let (status, _, body) = api.get_bytes(link).await;
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("20 MB"));

    // A bot whose token was revoked opens nothing until connected anew.
    t.telegram.revoke(token);
    let (status, _, body) = api.get_bytes(link).await;
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("connect the bot anew"));
    t.stop().await;
}
