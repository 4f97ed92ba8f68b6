//! The fake Telegram behaves as the Bot API does, as teloxide (the bridge's
//! client) sees it: every answer parses, errors are the ones teloxide knows,
//! polling honours offsets and ends an older poller with 409, webhooks carry
//! the secret and are retried until answered 2xx.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chat_fakes::Running;
use chat_fakes::telegram::{FakeTelegram, Person, Retries};
use serde_json::Value;
use teloxide_core::ApiError;
use teloxide_core::RequestError;
use teloxide_core::prelude::*;
use teloxide_core::types::{ChatId, UpdateKind};

const TOKEN: &str = "123456:fake-token";

/// A webhook delivery as received: its secret token header and its update.
type Delivery = (Option<String>, Value);

async fn start() -> (FakeTelegram, Running, Bot) {
    let fake = FakeTelegram::new(Retries {
        first: Duration::from_millis(50),
        cap: Duration::from_millis(200),
    });
    fake.make_bot(TOKEN, "tea_shop_bot");
    let running = Running::serve("127.0.0.1:0", fake.clone().router())
        .await
        .expect("the fake serves");
    let bot = Bot::new(TOKEN).set_api_url(running.url().parse().unwrap());
    (fake, running, bot)
}

/// Waits until `done`, for at most ten seconds.
async fn until(done: impl Fn() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn anna() -> Person {
    Person {
        id: 42,
        first_name: "Анна".into(),
        last_name: Some("Петрова".into()),
        username: None,
    }
}

#[tokio::test]
async fn get_me_answers_every_field_teloxide_needs_and_a_bad_token_is_unauthorized() {
    let (_fake, running, bot) = start().await;
    let me = bot.get_me().await.expect("getMe parses");
    assert_eq!(me.username(), "tea_shop_bot");
    assert_eq!(me.id.0, 123456);

    let stranger = Bot::new("999:nope").set_api_url(running.url().parse().unwrap());
    let refused = stranger.get_me().await.unwrap_err();
    assert!(
        matches!(refused, RequestError::Api(ApiError::InvalidToken)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn polling_gets_updates_in_order_and_forgets_what_an_offset_confirms() {
    let (fake, _running, bot) = start().await;
    fake.person_writes(TOKEN, &anna(), "first").unwrap();
    fake.person_writes(TOKEN, &anna(), "second").unwrap();

    let updates = bot.get_updates().timeout(1).await.unwrap();
    let texts: Vec<&str> = updates
        .iter()
        .map(|u| match &u.kind {
            UpdateKind::Message(m) => m.text().unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, ["first", "second"]);
    // Unconfirmed updates come again; an offset past them forgets them.
    assert_eq!(bot.get_updates().timeout(1).await.unwrap().len(), 2);
    let next = updates[1].id.0 as i32 + 1;
    assert!(
        bot.get_updates()
            .offset(next)
            .timeout(1)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        bot.get_updates().timeout(1).await.unwrap().is_empty(),
        "gone for good"
    );
}

#[tokio::test]
async fn a_long_poll_waits_for_the_next_update_and_a_newer_poll_ends_an_older_one() {
    let (fake, _running, bot) = start().await;
    let waiting = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(10).await }
    });
    until(|| fake.polls(TOKEN) == 1, "the first poll waits").await;
    fake.person_writes(TOKEN, &anna(), "hello").unwrap();
    let got = waiting.await.unwrap().expect("the long poll answers");
    assert_eq!(got.len(), 1);

    let older = tokio::spawn({
        let bot = bot.clone();
        async move {
            bot.get_updates()
                .offset(got[0].id.0 as i32 + 1)
                .timeout(10)
                .await
        }
    });
    until(|| fake.polls(TOKEN) == 2, "the older poll waits").await;
    let newer = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(1).await }
    });
    let ended = older.await.unwrap().unwrap_err();
    assert!(
        matches!(
            ended,
            RequestError::Api(ApiError::TerminatedByOtherGetUpdates)
        ),
        "{ended:?}"
    );
    assert!(newer.await.unwrap().unwrap().is_empty());
}

#[tokio::test]
async fn send_message_answers_a_full_message_or_the_errors_teloxide_knows() {
    let (fake, _running, bot) = start().await;
    let unknown = bot.send_message(ChatId(42), "hi").await.unwrap_err();
    assert!(
        matches!(unknown, RequestError::Api(ApiError::ChatNotFound)),
        "{unknown:?}"
    );

    fake.person_writes(TOKEN, &anna(), "hello").unwrap();
    let sent = bot.send_message(ChatId(42), "Добрый день!").await.unwrap();
    assert_eq!(sent.text(), Some("Добрый день!"));
    assert_eq!(sent.chat.id, ChatId(42));
    assert_eq!(fake.sent(TOKEN).len(), 1);

    let long = bot
        .send_message(ChatId(42), "я".repeat(4097))
        .await
        .unwrap_err();
    assert!(
        matches!(long, RequestError::Api(ApiError::MessageIsTooLong)),
        "{long:?}"
    );
    let empty = bot.send_message(ChatId(42), " ").await.unwrap_err();
    assert!(
        matches!(empty, RequestError::Api(ApiError::MessageTextIsEmpty)),
        "{empty:?}"
    );

    fake.throttle(TOKEN, 1, 3);
    let throttled = bot.send_message(ChatId(42), "again").await.unwrap_err();
    assert!(
        matches!(throttled, RequestError::RetryAfter(s) if s.duration() == Duration::from_secs(3)),
        "{throttled:?}"
    );
    bot.send_message(ChatId(42), "again")
        .await
        .expect("sent once throttling ends");

    fake.block(TOKEN, 42);
    let blocked = bot
        .send_message(ChatId(42), "still there?")
        .await
        .unwrap_err();
    assert!(
        matches!(blocked, RequestError::Api(ApiError::BotBlocked)),
        "{blocked:?}"
    );
    assert_eq!(fake.sent(TOKEN).len(), 2, "nothing refused was sent");
}

#[tokio::test]
async fn webhooks_carry_the_secret_are_retried_until_answered_2xx_and_exclude_polling() {
    let (fake, _running, bot) = start().await;
    // A receiver that fails its first two deliveries.
    let received: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let failures_left = Arc::new(Mutex::new(2));
    let receiver = axum::Router::new().route(
        "/hook",
        post({
            let received = received.clone();
            move |headers: HeaderMap, body: axum::Json<Value>| {
                let received = received.clone();
                let failures_left = failures_left.clone();
                async move {
                    let mut left = failures_left.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let secret = headers
                        .get("x-telegram-bot-api-secret-token")
                        .map(|v| v.to_str().unwrap().to_owned());
                    received.lock().unwrap().push((secret, body.0));
                    StatusCode::OK
                }
            }
        }),
    );
    let receiver = Running::serve("127.0.0.1:0", receiver).await.unwrap();
    bot.set_webhook(format!("{}/hook", receiver.url()).parse().unwrap())
        .secret_token("s3cret".to_owned())
        .await
        .unwrap();
    let info = bot.get_webhook_info().await.unwrap();
    assert_eq!(info.url.unwrap().path(), "/hook");
    let conflict = bot.get_updates().await.unwrap_err();
    // The real server's words, which teloxide does not recognise as
    // CantGetUpdates (it expects the text without "Conflict: " and the rest).
    assert!(
        matches!(&conflict, RequestError::Api(ApiError::Unknown(d))
            if d.starts_with("Conflict: can't use getUpdates method while webhook is active")),
        "{conflict:?}"
    );

    fake.person_writes(TOKEN, &anna(), "one").unwrap();
    fake.person_writes(TOKEN, &anna(), "two").unwrap();
    until(|| received.lock().unwrap().len() == 2, "both deliveries").await;
    // The fake counts a delivery once its answer is in.
    until(
        || fake.deliveries(TOKEN) == (2, 2),
        "the deliveries counted",
    )
    .await;
    let received = received.lock().unwrap().clone();
    let texts: Vec<&str> = received
        .iter()
        .map(|(_, u)| u["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["one", "two"], "in order, each once");
    assert!(received.iter().all(|(s, _)| s.as_deref() == Some("s3cret")));
}

#[tokio::test]
async fn a_photo_or_document_a_person_sends_downloads_by_get_file_as_teloxide_reads_it() {
    use futures::StreamExt as _;
    use teloxide_core::net::Download as _;
    use teloxide_core::types::FileId;

    let (fake, _running, bot) = start().await;
    fake.person_sends_photo(TOKEN, &anna(), Some("this one?"))
        .unwrap();
    fake.person_sends_document(
        TOKEN,
        &anna(),
        "order.pdf",
        "application/pdf",
        b"%PDF".to_vec(),
    )
    .unwrap();
    let updates = bot.get_updates().timeout(1).await.unwrap();
    let UpdateKind::Message(photo) = &updates[0].kind else {
        panic!("a message")
    };
    assert_eq!(photo.caption(), Some("this one?"));
    let sizes = photo.photo().expect("a photo, in sizes");
    assert_eq!(sizes.len(), 2);
    let UpdateKind::Message(document) = &updates[1].kind else {
        panic!("a message")
    };
    let document = document.document().expect("a document");
    assert_eq!(document.file_name.as_deref(), Some("order.pdf"));

    let download = async |id: &FileId| {
        let file = bot.get_file(id.clone()).await.expect("getFile");
        let mut bytes = Vec::new();
        let mut stream = bot.download_file_stream(&file.path);
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.expect("the file's bytes"));
        }
        (file, bytes)
    };
    let (file, bytes) = download(&sizes[1].file.id).await;
    assert!(file.path.starts_with("photos/") && file.path.ends_with(".jpg"));
    assert_eq!(bytes, chat_fakes::telegram::PHOTO_JPEG);
    assert_eq!(file.meta.size as usize, bytes.len());
    let (file, bytes) = download(&document.file.id).await;
    assert!(file.path.starts_with("documents/"));
    assert_eq!(bytes, b"%PDF");

    // Another bot's file id, or none Telegram gave: refused.
    let other = bot.get_file(FileId("AgACAgIAAxkBAAInope".into())).await;
    assert!(
        matches!(other, Err(RequestError::Api(ApiError::FileIdInvalid))),
        "{other:?}"
    );
    // Over 20 MB, a bot cannot download it.
    let big = vec![0u8; chat_fakes::telegram::MAX_DOWNLOAD_BYTES + 1];
    let update = fake
        .person_sends_document(TOKEN, &anna(), "film.mp4", "video/mp4", big)
        .unwrap();
    let id = update["message"]["document"]["file_id"].as_str().unwrap();
    let refused = bot.get_file(FileId(id.into())).await;
    assert!(
        matches!(&refused, Err(RequestError::Api(ApiError::Unknown(d))) if d == "Bad Request: file is too big"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_fake_started_again_numbers_past_what_it_gave_before() {
    // As `make dev` restarted on a database that keeps the bridge's
    // messages, whose keys hold Telegram's message ids: a new run of the
    // fake must not give out ids the last one gave, or the bridge would
    // take new messages for redeliveries.
    let before = FakeTelegram::default();
    before.make_bot(TOKEN, "tea_shop_bot");
    let mut last = Value::Null;
    for text in ["one", "two", "three"] {
        last = before.person_writes(TOKEN, &anna(), text).unwrap();
    }
    // A restart takes at least a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = FakeTelegram::default();
    after.make_bot(TOKEN, "tea_shop_bot");
    let first = after.person_writes(TOKEN, &anna(), "four").unwrap();
    let number = |update: &Value, field: &str| update[field].as_i64().unwrap();
    assert!(number(&first, "update_id") > number(&last, "update_id"));
    assert!(number(&first["message"], "message_id") > number(&last["message"], "message_id"));
    // Still a 32-bit id, as the Bot API's are.
    assert!(i32::try_from(number(&first["message"], "message_id")).is_ok());
}
