//! Files both ways through the gateway: a visitor uploads from the widget's
//! page and sends, a manager fetches it; a manager uploads and sends, the
//! visitor fetches it. Limits refuse with their reasons, and nobody outside
//! the dialog (another visitor, another shop) reaches a file.

use std::io::Cursor;

use chat_testkit::clients::{Api, Socket, visitor_token};
use image::{DynamicImage, ImageFormat, RgbImage};
use serde_json::{Value, json};

use crate::helpers::{TestSuite, client_id};

fn png(width: u32, height: u32) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 40]));
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    bytes
}

/// A visitor's upload from the shop's page, with their token.
async fn visitor_upload(
    t: &TestSuite,
    site_key: &str,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let bearer = format!("Bearer {token}");
    let path = format!("/widget/v1/attachments?site_key={site_key}&name={name}");
    Api::new(t.port)
        .post_bytes(&path, &[("authorization", &bearer)], bytes)
        .await
}

/// A visitor's fetch of a file, with their token.
async fn visitor_fetch(
    t: &TestSuite,
    site_key: &str,
    token: &str,
    path: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{}{path}?site_key={site_key}",
            t.port
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("gateway reachable")
}

#[tokio::test]
async fn files_go_both_ways_between_a_visitor_and_a_manager() {
    let t = TestSuite::start().await;
    let shop = t.shop("Files").await;
    let api = t.manager_api(&shop).await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "anna", None).await;
    visitor.wait_for_type("hello").await;
    let token = visitor_token(t.port, &shop.site_key, "anna").expect("a token");

    // The visitor sends a photo alone.
    let (status, photo) =
        visitor_upload(&t, &shop.site_key, &token, "receipt.png", png(900, 300)).await;
    assert_eq!(status, 201, "{photo}");
    assert_eq!(
        (photo["width"].as_u64(), photo["height"].as_u64()),
        (Some(900), Some(300))
    );
    visitor
        .send_json(
            json!({"type": "send", "client_message_id": client_id(), "text": "",
            "attachments": [photo["id"]]}),
        )
        .await;
    let ack = visitor.wait_for_type("ack").await;
    assert_eq!(ack["message"]["attachments"][0], photo);
    let dialog_id = ack["message"]["dialog_id"].as_str().unwrap().to_owned();

    // The manager sees it in the dialog and fetches it, guarded.
    let (status, page) = api
        .get(&format!("/api/v1/dialogs/{dialog_id}/messages"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"][0]["attachments"][0], photo);
    let (_, dialog) = api.get(&format!("/api/v1/dialogs/{dialog_id}")).await;
    assert_eq!(dialog["last_message_text"], "📎 receipt.png");
    let id = photo["id"].as_str().unwrap();
    let (status, headers, bytes) = api.get_bytes(&format!("/api/v1/attachments/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(bytes.len() as u64, photo["size"].as_u64().unwrap());
    let (status, headers, thumbnail) = api
        .get_bytes(&format!("/api/v1/attachments/{id}/thumbnail"))
        .await;
    assert_eq!(
        (status, &headers["content-type"]),
        (200, &"image/jpeg".parse().unwrap())
    );
    let small = image::load_from_memory(&thumbnail).expect("an image");
    assert_eq!((small.width(), small.height()), (480, 160));

    // The manager answers with a document and words; the visitor gets both.
    let path = format!("/api/v1/dialogs/{dialog_id}/attachments?name=%D0%A1%D1%87%D1%91%D1%82.pdf");
    let (status, pdf) = api
        .post_bytes(
            &path,
            &[("content-type", "application/pdf")],
            b"%PDF-1.7 invoice".to_vec(),
        )
        .await;
    assert_eq!(status, 201, "{pdf}");
    assert_eq!(
        (pdf["name"].as_str(), pdf.get("width")),
        (Some("Счёт.pdf"), None)
    );
    let (status, posted) = api
        .post(
            &format!("/api/v1/dialogs/{dialog_id}/messages"),
            json!({"client_message_id": client_id(), "text": "Your invoice", "attachments": [pdf["id"]]}),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    let got = visitor
        .wait_for("the manager's file", |f| {
            f["type"] == "message" && f["message"]["text"] == "Your invoice"
        })
        .await;
    assert_eq!(got["message"]["attachments"][0], pdf);
    let pdf_path = format!("/widget/v1/attachments/{}", pdf["id"].as_str().unwrap());
    let response = visitor_fetch(&t, &shop.site_key, &token, &pdf_path).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment") && disposition.contains("%D0%A1"),
        "{disposition}"
    );
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        b"%PDF-1.7 invoice"
    );
    t.stop().await;
}

#[tokio::test]
async fn uploads_are_refused_with_their_reasons() {
    let t = TestSuite::start().await;
    let shop = t.shop("Limits").await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "boris", None).await;
    visitor.wait_for_type("hello").await;
    let token = visitor_token(t.port, &shop.site_key, "boris").unwrap();
    let key = &shop.site_key;

    let (status, body) = visitor_upload(&t, key, &token, "setup.exe", b"MZ".to_vec()).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["data"]
            .to_string()
            .contains("not a kind of file"),
        "{body}"
    );
    let (status, body) = visitor_upload(
        &t,
        key,
        &token,
        "cat.jpg",
        b"<svg onload=alert(1)>".to_vec(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["fields"]["data"],
        "is not an image, whatever its name says"
    );
    let huge = vec![b'x'; 20 * 1024 * 1024 + 1];
    let (status, body) = visitor_upload(&t, key, &token, "big.pdf", huge).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (413, &json!("too_large")),
        "{body}"
    );
    let (status, _) = visitor_upload(&t, key, "made-up.token", "a.pdf", b"%PDF".to_vec()).await;
    assert_eq!(status, 401);
    let (status, _) = Api::new(t.port)
        .post_bytes(
            &format!("/widget/v1/attachments?site_key={key}&name=a.pdf"),
            &[],
            b"%PDF".to_vec(),
        )
        .await;
    assert_eq!(status, 401, "no token");
    let (status, _) = visitor_upload(&t, "no-such-site", &token, "a.pdf", b"%PDF".to_vec()).await;
    assert_eq!(status, 404);
    // A message naming more files than a message carries stores nothing.
    let many: Vec<String> = (0..11).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let id = client_id();
    visitor
        .send_json(
            json!({"type": "send", "client_message_id": id, "text": "x", "attachments": many}),
        )
        .await;
    let refused = visitor.wait_for_type("error").await;
    assert_eq!(
        (&refused["code"], &refused["client_message_id"]),
        (&json!("invalid"), &json!(id))
    );
    // The browser's preflight from the shop's page is answered.
    let preflight = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("http://127.0.0.1:{}/widget/v1/attachments", t.port),
        )
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{:?}", preflight);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_file_is_reached_only_from_its_own_dialog_and_shop() {
    let t = TestSuite::start().await;
    let (shop, other_shop) = (t.shop("Mine").await, t.shop("Theirs").await);
    let (api, other_api) = (t.manager_api(&shop).await, t.manager_api(&other_shop).await);
    let mut anna = Socket::visitor(t.port, &shop.site_key, "anna", None).await;
    anna.wait_for_type("hello").await;
    let annas_token = visitor_token(t.port, &shop.site_key, "anna").unwrap();
    let (_, file) = visitor_upload(
        &t,
        &shop.site_key,
        &annas_token,
        "passport.png",
        png(10, 10),
    )
    .await;
    let file_id = file["id"].as_str().expect("kept").to_owned();
    anna.send_json(json!({"type": "send", "client_message_id": client_id(), "text": "here", "attachments": [file_id]}))
        .await;
    let dialog_id = anna.wait_for_type("ack").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another visitor of the same shop: not found, whatever they ask.
    let mut boris = Socket::visitor(t.port, &shop.site_key, "boris", None).await;
    boris.wait_for_type("hello").await;
    let boris_token = visitor_token(t.port, &shop.site_key, "boris").unwrap();
    for path in [
        format!("/widget/v1/attachments/{file_id}"),
        format!("/widget/v1/attachments/{file_id}/thumbnail"),
    ] {
        let response = visitor_fetch(&t, &shop.site_key, &boris_token, &path).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let id = client_id();
    boris
        .send_json(json!({"type": "send", "client_message_id": id, "text": "mine now", "attachments": [file_id]}))
        .await;
    let refused = boris.wait_for_type("error").await;
    assert_eq!(refused["code"], "not_found", "{refused}");

    // Another shop's manager: not found, and cannot upload into the dialog.
    let (status, _, _) = other_api
        .get_bytes(&format!("/api/v1/attachments/{file_id}"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = other_api
        .post_bytes(
            &format!("/api/v1/dialogs/{dialog_id}/attachments?name=x.pdf"),
            &[],
            b"%PDF".to_vec(),
        )
        .await;
    assert_eq!(status, 404);
    let their_dialog = t.first_dialog(&other_shop.site_key, "carl").await;
    let (status, body) = other_api
        .post(
            &format!("/api/v1/dialogs/{their_dialog}/messages"),
            json!({"client_message_id": client_id(), "text": "look", "attachments": [file_id]}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    // Its own shop's manager does reach it.
    let (status, _, _) = api
        .get_bytes(&format!("/api/v1/attachments/{file_id}"))
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = api.get_bytes("/api/v1/attachments/not-a-uuid").await;
    assert_eq!(status, 404);
    t.stop().await;
}
