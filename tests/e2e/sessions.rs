//! A manager's session: logging out ends it on REST and closes its sockets on
//! every gateway replica at once; the manager's other sessions live on.

use serde_json::json;

use chat_testkit::clients::{Api, Socket};

use crate::helpers::{Options, TestSuite};

#[tokio::test]
async fn logging_out_closes_the_sessions_sockets_on_every_replica() {
    let t = TestSuite::start_with(Options {
        extra_gateways: 1,
        ..Options::default()
    })
    .await;
    let (one, two) = (t.port, t.suite().gateway_ports[1]);
    let shop = t.shop("Kappa").await;
    let phone = Api::login(one, &shop.email, &shop.password).await;
    let laptop = Api::login(two, &shop.email, &shop.password).await;
    let mut phone_on_one = Socket::manager(one, phone.token.as_deref().unwrap()).await;
    let mut phone_on_two = Socket::manager(two, phone.token.as_deref().unwrap()).await;
    let mut laptop_on_two = Socket::manager(two, laptop.token.as_deref().unwrap()).await;
    for socket in [&mut phone_on_one, &mut phone_on_two, &mut laptop_on_two] {
        socket.wait_for_type("hello").await;
    }

    let (status, _) = phone.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(
        phone_on_one.closed().await,
        (4401, "session ended".to_owned())
    );
    assert_eq!(
        phone_on_two.closed().await,
        (4401, "session ended".to_owned())
    );
    let (status, _) = phone.get("/api/v1/me").await;
    assert_eq!(status, 401);
    let again = Socket::try_manager(one, phone.token.as_deref(), None).await;
    assert_eq!(again.err(), Some(401), "refused before the upgrade");

    // The laptop's session is another one: it goes on.
    assert!(laptop_on_two.drain().await.is_empty());
    let (status, _) = laptop.get("/api/v1/me").await;
    assert_eq!(status, 200);
    t.stop().await;
}

#[tokio::test]
async fn only_the_managers_own_requests_keep_the_session_alive() {
    let t = TestSuite::start_with(crate::helpers::Options {
        gateway: gateway::Config {
            session_idle_secs: 3,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let shop = t.shop("Idle").await;
    let (busy, idle) = (t.manager_api(&shop).await, t.manager_api(&shop).await);
    let http = reqwest::Client::new();
    let me = format!("http://127.0.0.1:{}/api/v1/me", t.port);
    // Five seconds of asking: the busy device asks as the manager, the other
    // only in the background, as a console does when frames arrive.
    for _ in 0..5 {
        let (status, _) = busy.get("/api/v1/me").await;
        assert_eq!(status, 200);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    assert_eq!(
        idle.get("/api/v1/me").await.0,
        200,
        "the busy device kept both alive"
    );
    let background = |token: String| {
        let (http, me) = (http.clone(), me.clone());
        async move {
            http.get(&me)
                .bearer_auth(token)
                .header("x-chat-background", "1")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let token = busy.token.clone().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(background(token.clone()).await);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    assert_eq!(
        statuses.last(),
        Some(&401),
        "background asking is no activity: {statuses:?}"
    );
    assert_eq!(idle.get("/api/v1/me").await.0, 401, "ended on every device");
    t.stop().await;
}
