//! The tenant wall: a manager of one shop can reach nothing of another, on
//! every endpoint and socket frame, and is told "not found" rather than "forbidden".

use serde_json::json;

use chat_testkit::clients::{Socket, message_seqs};

use crate::helpers::{TestSuite, client_id};

#[tokio::test]
async fn a_manager_cannot_reach_another_shops_dialogs() {
    let t = TestSuite::start().await;
    let (shop_a, shop_b) = (t.shop("Alpha").await, t.shop("Beta").await);
    let (api_a, api_b) = (t.manager_api(&shop_a).await, t.manager_api(&shop_b).await);

    let mut visitor = Socket::visitor(t.port, &shop_a.site_key, "alpha-visitor", None).await;
    visitor
        .send_json(
            json!({"type": "send", "client_message_id": client_id(), "text": "private to Alpha"}),
        )
        .await;
    let dialog_id = visitor.wait_for_type("ack").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Every REST endpoint that takes a dialog says 404 to Beta, and changes nothing.
    let dialog_path = format!("/api/v1/dialogs/{dialog_id}");
    let messages_path = format!("{dialog_path}/messages");
    for (status, body) in [
        api_b.get(&dialog_path).await,
        api_b.get(&messages_path).await,
        api_b.get(&format!("{messages_path}?after_seq=0")).await,
        api_b
            .post(
                &messages_path,
                json!({"client_message_id": client_id(), "text": "intrusion"}),
            )
            .await,
    ] {
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let (_, listed) = api_b.get("/api/v1/dialogs").await;
    assert_eq!(
        listed["dialogs"].as_array().unwrap().len(),
        0,
        "Beta lists none of Alpha's dialogs"
    );

    // The socket frames that name a dialog are refused the same way.
    let mut beta = Socket::manager(t.port, api_b.token.as_deref().unwrap()).await;
    beta.wait_for_type("hello").await;
    beta.send_json(json!({"type": "send", "dialog_id": dialog_id, "client_message_id": "x", "text": "intrusion"})).await;
    let error = beta.wait_for_type("error").await;
    assert_eq!(
        (error["code"].as_str(), error["client_message_id"].as_str()),
        (Some("not_found"), Some("x"))
    );
    beta.send_json(json!({"type": "sync", "dialog_id": dialog_id, "after_seq": 0}))
        .await;
    assert_eq!(beta.wait_for_type("error").await["code"], "not_found");

    // Alpha's messages never reach Beta's socket, and Alpha's dialog is untouched.
    visitor
        .send_json(
            json!({"type": "send", "client_message_id": client_id(), "text": "still private"}),
        )
        .await;
    visitor.wait_for_type("ack").await;
    let (_, page) = api_a.get(&messages_path).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);
    // A message of Beta's own, sent after Alpha's, reaches Beta's socket:
    // events pass the gateway in order, so Alpha's has passed by then.
    let mut beta_visitor = Socket::visitor(t.port, &shop_b.site_key, "beta-visitor", None).await;
    beta_visitor
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "Beta's own"}))
        .await;
    beta_visitor.wait_for_type("ack").await;
    beta.wait_for("Beta's own message", |f| {
        f["type"] == "message" && f["message"]["text"] == "Beta's own"
    })
    .await;
    assert_eq!(
        message_seqs(&beta.drain().await, &dialog_id),
        Vec::<i64>::new()
    );
    t.stop().await;
}

#[tokio::test]
async fn a_visitor_sees_only_their_own_dialog() {
    let t = TestSuite::start().await;
    let shop = t.shop("Gamma").await;
    let mut first = Socket::visitor(t.port, &shop.site_key, "first", None).await;
    let mut second = Socket::visitor(t.port, &shop.site_key, "second", None).await;
    first
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "mine"}))
        .await;
    let dialog_id = first.wait_for_type("ack").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();
    second
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "other"}))
        .await;
    let other = second.wait_for_type("ack").await;
    assert_ne!(
        other["message"]["dialog_id"],
        dialog_id.as_str(),
        "each visitor has their own dialog"
    );
    // The second visitor's own message comes back on its socket after the
    // first's has passed the gateway (events pass in order).
    second
        .wait_for("its own message", |f| {
            f["type"] == "message" && f["message"]["text"] == "other"
        })
        .await;
    assert_eq!(
        message_seqs(&second.drain().await, &dialog_id),
        Vec::<i64>::new()
    );
    t.stop().await;
}
