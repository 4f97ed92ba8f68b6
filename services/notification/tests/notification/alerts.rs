//! E-mail alerts to managers who are away, through a real SMTP server
//! (mailtutan): one e-mail per window, nothing for what was read or seen
//! live, every offline manager for a dialog nobody has, once per message
//! however often its event comes, and nothing lost while the SMTP server or
//! the service itself is down.

use uuid::Uuid;

use crate::helpers::{CONSOLE_URL, Dialog, Manager, TestApp};

#[tokio::test]
async fn an_offline_manager_gets_one_email_for_the_messages_of_a_window() {
    let app = TestApp::spawn().await;
    let account = Uuid::now_v7();
    let anna = Manager::new(account, "Anna");
    app.manager(&anna).await;
    let dialog = Dialog::new(account);
    app.dialog_created(&dialog, Some(&anna), "Boris").await;

    app.visitor_writes(&dialog, 1, "Is the green tea in stock?")
        .await;
    app.visitor_writes(&dialog, 2, "<b>Hello?</b> & thanks")
        .await;
    let mails = app.mail.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail.to, vec![anna.email.clone()]);
    assert_eq!(mail.from, "chat@chat.test");
    assert_eq!(mail.subject, "Boris wrote to Tea & Co (2 messages)");
    assert!(mail.text.contains("Is the green tea in stock?"));
    assert!(mail.text.contains("<b>Hello?</b> & thanks"));
    assert!(
        mail.html
            .contains("&#60;b&#62;Hello?&#60;/b&#62; &#38; thanks")
    );
    assert!(!mail.html.contains("<b>Hello?"));
    let link = format!("{CONSOLE_URL}#/dialogs/{}", dialog.dialog_id);
    assert!(mail.text.contains(&link), "{}", mail.text);
    // One-click unsubscribe (RFC 8058), at the gateway beside the console.
    let unsubscribe = mail
        .header("List-Unsubscribe")
        .expect("an unsubscribe link");
    assert!(
        unsubscribe.starts_with(&format!(
            "<{}/api/v1/unsubscribe/",
            CONSOLE_URL.trim_end_matches("/console/")
        )),
        "{unsubscribe}"
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(
        mail.header("Message-ID")
            .is_some_and(|id| id.ends_with("@chat.test>"))
    );

    // A later message is a new window: one more e-mail, with only it.
    app.visitor_writes(&dialog, 3, "Still there?").await;
    let mails = app.mail.wait_for(2).await;
    assert_eq!(mails.len(), 2, "one e-mail per window");
    assert_eq!(mails[1].subject, "Boris wrote to Tea & Co");
    assert!(mails[1].text.contains("Still there?"));
    assert!(!mails[1].text.contains("green tea"));
    app.finish().await;
}

#[tokio::test]
async fn what_the_manager_read_or_saw_live_is_left_out() {
    let app = TestApp::spawn().await;
    let account = Uuid::now_v7();
    let anna = Manager::new(account, "Anna");
    app.manager(&anna).await;

    // Read on some device before the window ended: no e-mail at all.
    let read = Dialog::new(account);
    app.dialog_created(&read, Some(&anna), "Read").await;
    app.visitor_writes(&read, 1, "read me").await;
    app.read(&read, &anna, 1).await;

    // Written while her console was open: she saw it come.
    let console = app.console_open(&anna).await;
    let seen = Dialog::new(account);
    app.dialog_created(&seen, Some(&anna), "Seen").await;
    app.visitor_writes(&seen, 1, "seen live").await;
    app.alert_settled(&seen).await;
    app.console_closed(&console).await;

    // Half read: only the unread one.
    let half = Dialog::new(account);
    app.dialog_created(&half, Some(&anna), "Half").await;
    app.visitor_writes(&half, 1, "first, read").await;
    app.visitor_writes(&half, 2, "second, unread").await;
    app.read(&half, &anna, 1).await;

    let mails = app.mail.wait_for(1).await;
    // The half-read dialog's e-mail came after the others were due: had
    // they made one, it would be here too.
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, "Half wrote to Tea & Co");
    assert!(mails[0].text.contains("second, unread"));
    assert!(!mails[0].text.contains("first, read"));
    app.finish().await;
}

#[tokio::test]
async fn a_manager_who_chose_russian_gets_their_alert_in_russian() {
    let app = TestApp::spawn().await;
    let account = Uuid::now_v7();
    let anna = Manager::new(account, "Anna").speaking("ru");
    app.manager(&anna).await;
    let dialog = Dialog::new(account);
    app.dialog_created(&dialog, Some(&anna), "Борис").await;
    for (seq, text) in [(1, "Есть зелёный чай?"), (2, "Ау?")] {
        app.visitor_writes(&dialog, seq, text).await;
    }
    let mails = app.mail.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(
        mail.subject,
        "Борис пишет в магазин «Tea & Co» (2 сообщения)"
    );
    assert!(mail.text.contains("Ответить в консоли"), "{}", mail.text);
    assert!(mail.html.contains("lang=\"ru\"") && mail.html.contains("Борис ждёт ответа"));
    assert!(
        !mail.text.contains("Answer in the console"),
        "no English: {}",
        mail.text
    );
    app.finish().await;
}

#[tokio::test]
async fn an_answer_among_the_visitors_messages_settles_only_those_before_it() {
    let app = TestApp::spawn().await;
    let account = Uuid::now_v7();
    let anna = Manager::new(account, "Anna");
    app.manager(&anna).await;
    let dialog = Dialog::new(account);
    app.dialog_created(&dialog, Some(&anna), "Olga").await;
    // Published at once, so the consumer takes them in one batch: the
    // visitors' messages are written at its end, after the answer.
    app.visitor_writes(&dialog, 1, "before the answer").await;
    let mut answer = dialog.manager_message(2);
    answer.text = "We have it.".into();
    app.publish(&dialog, &answer).await;
    app.visitor_writes(&dialog, 3, "after the answer").await;

    let mails = app.mail.wait_for(1).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].text.contains("after the answer"),
        "{}",
        mails[0].text
    );
    assert!(
        !mails[0].text.contains("before the answer"),
        "{}",
        mails[0].text
    );
    app.finish().await;
}

#[tokio::test]
async fn a_dialog_without_a_manager_alerts_every_offline_manager_who_wants_email() {
    let app = TestApp::spawn().await;
    let account = Uuid::now_v7();
    let (anna, boris, vera) = (
        Manager::new(account, "Anna"),
        Manager::new(account, "Boris"),
        Manager::new(account, "Vera"),
    );
    for manager in [&anna, &boris, &vera] {
        app.manager(manager).await;
    }
    let other_account = Manager::new(Uuid::now_v7(), "Stranger");
    app.manager(&other_account).await;
    app.wait_until_handled().await;
    set_email(&app, &boris, false).await;
    let _vera_online = app.console_open(&vera).await;

    let dialog = Dialog::new(account);
    app.dialog_created(&dialog, None, "").await;
    app.visitor_writes(&dialog, 1, "anyone?").await;
    let mails = app.mail.wait_for(1).await;
    // Another dialog's alert, later, to Anna: had Boris or Vera (or the
    // other shop's manager) been written to, it would have come before.
    let later = Dialog::new(account);
    app.dialog_created(&later, Some(&anna), "Later").await;
    app.visitor_writes(&later, 1, "later").await;
    let mails_after = app.mail.wait_for(mails.len() + 1).await;
    let recipients: Vec<_> = mails_after.iter().map(|m| m.to[0].clone()).collect();
    assert_eq!(recipients, [anna.email.clone(), anna.email.clone()]);
    let label = chat_platform::names::visitor_label(dialog.contact_id);
    assert_eq!(mails_after[0].subject, format!("{label} wrote to Tea & Co"));
    app.finish().await;
}

#[tokio::test]
async fn a_message_delivered_again_is_not_alerted_twice() {
    let app = TestApp::spawn().await;
    let account = Uuid::now_v7();
    let anna = Manager::new(account, "Anna");
    app.manager(&anna).await;
    let dialog = Dialog::new(account);
    app.dialog_created(&dialog, Some(&anna), "Boris").await;
    let mut message = dialog.visitor_message(1);
    message.created_at = Some(chat_proto::time::to_proto(chrono::Utc::now()));
    app.publish(&dialog, &message).await;
    app.mail.wait_for(1).await;

    // The same message under a new event id (the bus's dedupe cannot see
    // it), as a redelivery after a lost ack would bring it.
    app.publish(&dialog, &message).await;
    app.visitor_writes(&dialog, 2, "second").await;
    let mails = app.mail.wait_for(2).await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1].text.contains("second"));
    assert!(!mails[1].text.contains("message 1"));
    app.finish().await;
}

#[tokio::test]
async fn nothing_is_lost_or_doubled_while_smtp_or_the_service_is_down() {
    let mut app = TestApp::spawn().await;
    let account = Uuid::now_v7();
    let anna = Manager::new(account, "Anna");
    app.manager(&anna).await;
    app.mail.stop().await;

    let dialog = Dialog::new(account);
    app.dialog_created(&dialog, Some(&anna), "Boris").await;
    app.visitor_writes(&dialog, 1, "while the mail server is down")
        .await;
    // Tried and refused (connection refused) at least twice.
    chat_testkit::eventually("two tries", || async {
        let log = app.email_log().await;
        (log.len() == 1 && log[0].3 >= 2 && log[0].2 == "pending").then_some(())
    })
    .await;

    // The service is stopped mid-retry and started again; then SMTP is back.
    app.stop().await;
    app.restart().await;
    app.mail.resume().await;
    let mails = app.mail.wait_for(1).await;
    assert!(mails[0].text.contains("while the mail server is down"));

    // A later alert comes after it; the first was sent once.
    app.visitor_writes(&dialog, 2, "and later").await;
    let mails = app.mail.wait_for(2).await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1].text.contains("and later"));
    let log = app.email_log().await;
    assert!(log.iter().all(|row| row.2 == "sent"), "{log:?}");
    app.finish().await;
}

async fn set_email(app: &TestApp, manager: &Manager, on: bool) {
    use chat_proto::notification::v1 as pb;
    let mut client = pb::notification_service_client::NotificationServiceClient::connect(format!(
        "http://127.0.0.1:{}",
        app.grpc_port()
    ))
    .await
    .expect("gRPC connects");
    let preferences = client
        .set_preferences(pb::SetPreferencesRequest {
            account_id: manager.account_id.to_string(),
            manager_id: manager.id.to_string(),
            email: Some(on),
            push: None,
        })
        .await
        .expect("preferences set")
        .into_inner();
    assert_eq!((preferences.email, preferences.push), (on, true));
    assert_eq!(preferences.email_address, manager.email);
}
