//! Bad input gets a clear error, with the right status or close code, and
//! changes nothing.

use serde_json::json;

use chat_testkit::clients::{Api, Socket};

use crate::helpers::{TestSuite, client_id};

#[tokio::test]
async fn a_socket_with_bad_credentials_is_refused_with_a_reason() {
    let t = TestSuite::start().await;
    let shop = t.shop("Delta").await;

    let mut unknown = Socket::visitor(t.port, "no-such-key", "v1", None).await;
    assert_eq!(
        unknown.closed().await,
        (4403, "unknown site key".to_owned())
    );
    let query = format!("site_key={}&after_seq=minus", shop.site_key);
    let mut bad_position = Socket::try_visitor(t.port, &query, None).await.unwrap();
    assert_eq!(bad_position.closed().await.0, 4400);

    // Refused before the upgrade: a status, not a socket.
    assert_eq!(
        Socket::try_manager(t.port, None, None).await.err(),
        Some(401)
    );
    let bad_token = Socket::try_manager(t.port, Some("0123456789abcdef"), None).await;
    assert_eq!(bad_token.err(), Some(401));
    t.stop().await;
}

#[tokio::test]
async fn bad_frames_get_an_error_frame_and_the_connection_stays() {
    let t = TestSuite::start().await;
    let shop = t.shop("Epsilon").await;
    let api = t.manager_api(&shop).await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "clumsy", None).await;
    visitor.wait_for_type("hello").await;

    visitor.send_text("this is not json").await;
    assert_eq!(visitor.wait_for_type("error").await["code"], "bad_frame");
    visitor.send_json(json!({"type": "dance"})).await;
    assert_eq!(visitor.wait_for_type("error").await["code"], "unknown_type");
    visitor.send_binary(vec![1, 2, 3]).await;
    assert_eq!(visitor.wait_for_type("error").await["code"], "bad_frame");

    for text in ["", "   ", &"x".repeat(4097)] {
        visitor
            .send_json(json!({"type": "send", "client_message_id": "bad", "text": text}))
            .await;
        let error = visitor.wait_for_type("error").await;
        assert_eq!(
            (error["code"].as_str(), error["client_message_id"].as_str()),
            (Some("invalid"), Some("bad"))
        );
    }
    // Still connected, and nothing was stored.
    assert!(visitor.drain().await.is_empty());
    let (_, dialogs) = api.get("/api/v1/dialogs").await;
    assert_eq!(dialogs["dialogs"].as_array().unwrap().len(), 0);

    // The longest allowed text is accepted (4096 characters, not bytes).
    visitor
        .send_json(
            json!({"type": "send", "client_message_id": client_id(), "text": "я".repeat(4096)}),
        )
        .await;
    assert_eq!(visitor.wait_for_type("ack").await["message"]["seq"], 1);
    t.stop().await;
}

#[tokio::test]
async fn a_frame_over_the_size_limit_closes_the_socket() {
    let t = TestSuite::start().await;
    let shop = t.shop("Zeta").await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "big", None).await;
    visitor.wait_for_type("hello").await;
    let huge = json!({"type": "send", "client_message_id": "big", "text": "x".repeat(70 * 1024)});
    visitor.send_json(huge).await;
    assert_eq!(visitor.closed().await.0, 1009);
    t.stop().await;
}

#[tokio::test]
async fn rest_refuses_bad_requests_with_clear_errors() {
    let t = TestSuite::start().await;
    let shop = t.shop("Eta").await;
    let anonymous = Api::new(t.port);

    let (status, body) = anonymous.get("/api/v1/dialogs").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = anonymous.with_token("forged").get("/api/v1/me").await;
    assert_eq!(status, 401);
    let (status, body) = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"email": shop.email, "password": "wrong password"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("bad_credentials"))
    );
    let (status, _) = anonymous.post_raw("/api/v1/auth/login", "{not json").await;
    assert_eq!(status, 400);
    let (status, _) = anonymous
        .post("/api/v1/auth/login", json!({"email": shop.email}))
        .await;
    assert_eq!(status, 422);

    let api = t.manager_api(&shop).await;
    let (status, me) = api.get("/api/v1/me").await;
    assert_eq!(
        (status, me["email"].as_str()),
        (200, Some(shop.email.as_str()))
    );
    let (status, _) = api.get("/api/v1/dialogs/not-a-uuid").await;
    assert_eq!(status, 404);
    let (status, body) = api.get("/api/v1/dialogs?status=pending").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid"))
    );
    let (status, _) = api.get("/api/v1/dialogs?limit=many").await;
    assert_eq!(status, 400);
    for bad_limit in ["0", "201"] {
        let (status, body) = api.get(&format!("/api/v1/dialogs?limit={bad_limit}")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("invalid"))
        );
    }

    // Unknown routes and methods answer in the API's error shape.
    let (status, body) = api.get("/api/v1/no-such-thing").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = api.post("/api/v1/me", json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    let huge = json!({"email": "x".repeat(70 * 1024), "password": "p"}).to_string();
    let (status, body) = anonymous.post_raw("/api/v1/auth/login", &huge).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("too_large"))
    );
    let (status, body) = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"email": "a\u{0}b", "password": "p"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("bad_credentials"))
    );

    t.stop().await;
}

#[tokio::test]
async fn bad_paging_and_bad_text_are_refused_over_rest_and_store_nothing() {
    let t = TestSuite::start().await;
    let shop = t.shop("Iota").await;
    let api = t.manager_api(&shop).await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "pager", None).await;
    visitor.wait_for_type("hello").await;
    visitor
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "hi"}))
        .await;
    let dialog_id = visitor.wait_for_type("ack").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let messages = format!("/api/v1/dialogs/{dialog_id}/messages");

    let (status, between) = api
        .get(&format!("{messages}?after_seq=0&before_seq=5"))
        .await;
    assert_eq!(status, 200, "both bounds: the messages between them");
    assert_eq!(between["messages"].as_array().unwrap().len(), 1);
    for query in ["before_seq=0", "after_seq=-1", "limit=500"] {
        let (status, body) = api.get(&format!("{messages}?{query}")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("invalid")),
            "{query}"
        );
    }
    // NUL cannot be stored: a clear 422, on REST and on the socket.
    let (status, body) = api
        .post(
            &messages,
            json!({"client_message_id": "n1", "text": "a\u{0}b"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid"))
    );
    let (status, _) = api
        .post(
            &messages,
            json!({"client_message_id": "n\u{0}1", "text": "ok"}),
        )
        .await;
    assert_eq!(status, 422);
    visitor
        .send_json(json!({"type": "send", "client_message_id": "n2", "text": "a\u{0}b"}))
        .await;
    assert_eq!(visitor.wait_for_type("error").await["code"], "invalid");

    let (_, page) = api.get(&messages).await;
    assert_eq!(
        page["messages"].as_array().unwrap().len(),
        1,
        "only the first message"
    );
    t.stop().await;
}
