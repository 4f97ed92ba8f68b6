//! A manager's session: logging out ends it on REST and closes its sockets on
//! every gateway replica at once; the manager's other sessions live on.

use serde_json::json;

use chat_testkit::clients::{Api, Socket};

use crate::helpers::{Options, Shop, TestSuite};

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

    // The laptop's session is another one: it goes on. (Its manager's
    // presence may blink meanwhile: the phone's sockets went first.)
    let heard = laptop_on_two.drain_but_presence().await;
    assert!(heard.is_empty(), "{heard:?}");
    let (status, _) = laptop.get("/api/v1/me").await;
    assert_eq!(status, 200);
    t.stop().await;
}

/// Moves the shop's managers' last activity `secs` into the past, as that
/// long without activity would (idleness is judged on it, for all devices).
async fn idle_for(t: &TestSuite, shop: &Shop, secs: i64) {
    sqlx::query(
        "update manager set last_active_at = now() - make_interval(secs => $2) \
         where account_id = $1::uuid",
    )
    .bind(&shop.account_id)
    .bind(secs as f64)
    .execute(&t.suite().gateway_pool)
    .await
    .expect("set the last activity");
}

async fn seconds_since_active(t: &TestSuite, shop: &Shop) -> f64 {
    sqlx::query_scalar(
        "select extract(epoch from now() - max(last_active_at))::float8 from manager \
         where account_id = $1::uuid",
    )
    .bind(&shop.account_id)
    .fetch_one(&t.suite().gateway_pool)
    .await
    .expect("the last activity")
}

const IDLE_LIMIT_SECS: i64 = 60;

fn idle_limit_options() -> Options {
    Options {
        gateway: gateway::Config {
            session_idle_secs: IDLE_LIMIT_SECS,
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test]
async fn only_the_managers_own_requests_keep_the_session_alive() {
    let t = TestSuite::start_with(idle_limit_options()).await;
    let shop = t.shop("Idle").await;
    let (busy, idle) = (t.manager_api(&shop).await, t.manager_api(&shop).await);
    let background = |api: &Api| {
        let http = reqwest::Client::new();
        let request = http
            .get(format!("http://127.0.0.1:{}/api/v1/me", t.port))
            .bearer_auth(api.token.clone().unwrap())
            .header("x-chat-background", "1");
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // Close to the limit, a request of the manager's own is activity, for
    // every device.
    idle_for(&t, &shop, IDLE_LIMIT_SECS - 10).await;
    assert_eq!(busy.get("/api/v1/me").await.0, 200);
    assert!(
        seconds_since_active(&t, &shop).await < 5.0,
        "counted as activity"
    );
    idle_for(&t, &shop, IDLE_LIMIT_SECS - 10).await;
    assert_eq!(background(&idle).await, 200, "still within the limit");
    assert!(
        seconds_since_active(&t, &shop).await > (IDLE_LIMIT_SECS - 11) as f64,
        "background asking is no activity"
    );
    idle_for(&t, &shop, IDLE_LIMIT_SECS + 1).await;
    assert_eq!(background(&busy).await, 401, "past the limit");
    assert_eq!(idle.get("/api/v1/me").await.0, 401, "ended on every device");
    t.stop().await;
}

/// A session that idled out stays ended: signing in again anywhere opens a
/// new session and does not revive the old ones, whether or not anyone
/// looked at them while they were idle.
#[tokio::test]
async fn an_idled_out_session_stays_ended_after_a_new_login() {
    let t = TestSuite::start_with(idle_limit_options()).await;
    let shop = t.shop("Shared Computer").await;
    let unseen = t.manager_api(&shop).await;
    let seen = t.manager_api(&shop).await;
    idle_for(&t, &shop, IDLE_LIMIT_SECS + 1).await;
    assert_eq!(seen.get("/api/v1/me").await.0, 401);
    let refused = Socket::try_manager(t.port, seen.token.as_deref(), None).await;
    assert_eq!(refused.err(), Some(401));

    let fresh = t.manager_api(&shop).await;
    assert_eq!(fresh.get("/api/v1/me").await.0, 200);
    assert_eq!(seen.get("/api/v1/me").await.0, 401, "ended when found idle");
    assert_eq!(
        unseen.get("/api/v1/me").await.0,
        401,
        "ended at the new login"
    );
    let (_, sessions) = fresh.get("/api/v1/sessions").await;
    assert_eq!(
        sessions["sessions"].as_array().unwrap().len(),
        1,
        "{sessions}"
    );
    let reasons: Vec<String> = sqlx::query_scalar(
        "select revoked_reason from session where account_id = $1::uuid and revoked_at is not null",
    )
    .bind(&shop.account_id)
    .fetch_all(&t.suite().gateway_pool)
    .await
    .unwrap();
    assert_eq!(reasons, ["idle", "idle"]);
    t.stop().await;
}

/// One's own new password needs the current one and ends one's other
/// sessions; a password an owner sets for a manager ends all of theirs.
#[tokio::test]
async fn a_new_password_ends_the_other_sessions() {
    let t = TestSuite::start().await;
    let shop = t.shop("Passwords").await;
    let (here, elsewhere) = (t.manager_api(&shop).await, t.manager_api(&shop).await);
    let my_id = here.get("/api/v1/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = format!("/api/v1/managers/{my_id}");
    let new_password = "a brand new password";
    let (status, body) = here.patch(&mine, json!({"password": new_password})).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["current_password"].is_string(),
        "{body}"
    );
    let wrong = json!({"password": new_password, "current_password": "not my password"});
    let (status, body) = here.patch(&mine, wrong).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        elsewhere.get("/api/v1/me").await.0,
        200,
        "nothing changed yet"
    );
    let mut elsewhere_socket = Socket::manager(t.port, elsewhere.token.as_deref().unwrap()).await;
    elsewhere_socket.wait_for_type("hello").await;

    let right = json!({"password": new_password, "current_password": shop.password});
    assert_eq!(here.patch(&mine, right).await.0, 200);
    assert_eq!(here.get("/api/v1/me").await.0, 200, "this session goes on");
    assert_eq!(elsewhere.get("/api/v1/me").await.0, 401);
    assert_eq!(elsewhere_socket.closed().await.0, 4401);
    let login = |password: &str| json!({"email": shop.email, "password": password});
    let anonymous = Api::new(t.port);
    assert_eq!(
        anonymous
            .post("/api/v1/auth/login", login(&shop.password))
            .await
            .0,
        401
    );
    assert_eq!(
        anonymous
            .post("/api/v1/auth/login", login(new_password))
            .await
            .0,
        200
    );

    // A plain manager changes their own password too, and nobody else's.
    let colleague_email = t.colleague(&shop, "Cora Colleague", "manager").await;
    let colleague = Api::login(t.port, &colleague_email, &shop.password).await;
    let colleague_id = colleague.get("/api/v1/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = format!("/api/v1/managers/{colleague_id}");
    let other_device = Api::login(t.port, &colleague_email, &shop.password).await;
    assert_eq!(
        colleague
            .patch(&mine, json!({"password": "taking over!"}))
            .await
            .0,
        403
    );
    assert_eq!(
        colleague.patch(&theirs, json!({"role": "admin"})).await.0,
        403
    );
    let change = json!({"password": "cora's new one", "current_password": shop.password});
    assert_eq!(colleague.patch(&theirs, change).await.0, 200);
    assert_eq!(other_device.get("/api/v1/me").await.0, 401);

    // The owner sets it for them: every session of theirs ends.
    assert_eq!(
        here.patch(&theirs, json!({"password": "set by the owner"}))
            .await
            .0,
        200
    );
    assert_eq!(colleague.get("/api/v1/me").await.0, 401);
    assert_eq!(here.get("/api/v1/me").await.0, 200);
    t.stop().await;
}
