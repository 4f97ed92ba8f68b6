//! Who counts as one client, and what one client may spend: behind the
//! configured trusted proxies the client is the address they name, from
//! anyone else the forwarding header changes nothing; rate limits and the
//! session list go by that address.

use serde_json::{Value, json};

use crate::helpers::{Options, TestSuite};

const LOGINS_PER_MINUTE: u32 = 3;

fn options(trusted_proxies: &str) -> Options {
    Options {
        gateway: gateway::Config {
            trusted_proxies: trusted_proxies.into(),
            logins_per_minute_per_address: LOGINS_PER_MINUTE,
            ..Default::default()
        },
        ..Options::default()
    }
}

/// A login sent with `X-Forwarded-For: forwarded_for`; its status and answer.
async fn login(port: u16, forwarded_for: &str, email: &str, password: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("gateway reachable");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The address the session list shows for the session of `token`.
async fn session_address(port: u16, token: &str) -> String {
    let api = chat_testkit::clients::Api::new(port).with_token(token);
    let (status, sessions) = api.get("/api/v1/sessions").await;
    assert_eq!(status, 200, "{sessions}");
    sessions["sessions"][0]["ip"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_login_budget() {
    // The test's own connections come from 127.0.0.1: the proxy.
    let t = TestSuite::start_with(options("127.0.0.0/8")).await;
    let shop = t.shop("Proxied").await;
    for i in 0..LOGINS_PER_MINUTE {
        let email = format!("nobody{i}@proxied.example");
        let (status, _) = login(t.port, "198.51.100.1", &email, "wrong password").await;
        assert_eq!(status, 401);
    }
    let (status, _) = login(t.port, "198.51.100.1", "nobody@proxied.example", "x").await;
    assert_eq!(status, 429, "that client's budget is spent");
    // Another client behind the same proxy is not locked out; what a client
    // puts in front of its own address is not believed.
    let (status, answer) = login(
        t.port,
        "198.51.100.1, 198.51.100.2",
        &shop.email,
        &shop.password,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let token = answer["token"].as_str().unwrap();
    assert_eq!(session_address(t.port, token).await, "198.51.100.2");
    t.stop().await;
}

#[tokio::test]
async fn a_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let t = TestSuite::start_with(options("")).await;
    let shop = t.shop("Direct").await;
    let (status, answer) = login(t.port, "203.0.113.5", &shop.email, &shop.password).await;
    assert_eq!(status, 200, "{answer}");
    let token = answer["token"].as_str().unwrap();
    assert_eq!(session_address(t.port, token).await, "127.0.0.1");
    for i in 1..LOGINS_PER_MINUTE {
        let (forged, email) = (format!("203.0.113.{i}"), format!("n{i}@direct.example"));
        assert_eq!(login(t.port, &forged, &email, "wrong").await.0, 401);
    }
    let (status, _) = login(t.port, "203.0.113.99", "n9@direct.example", "wrong").await;
    assert_eq!(status, 429, "one peer, one budget, whatever it says");
    t.stop().await;
}
