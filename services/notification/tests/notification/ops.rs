//! The operational endpoints on the service's ops port: `/healthz` while it
//! lives, `/readyz` once its database and NATS answer.

use chat_testkit::eventually;

use crate::helpers::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_200_on_the_ops_port() {
    let app = TestApp::spawn().await;
    let base = format!("http://127.0.0.1:{}", app.ops_port());
    let http = reqwest::Client::new();

    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    assert_eq!(health.text().await.expect("body"), "ok");

    // Ready once the bus has connected, which happens in the background.
    let body = eventually("/readyz to answer 200", || async {
        let response = http.get(format!("{base}/readyz")).send().await.ok()?;
        if response.status() != reqwest::StatusCode::OK {
            return None;
        }
        response.json::<serde_json::Value>().await.ok()
    })
    .await;
    assert_eq!(body, serde_json::json!({ "database": true, "nats": true }));

    app.finish().await;
}
