//! The console's REST API at its edges: cookie sessions and CSRF, ended
//! sessions, the tenant wall on every new endpoint, field errors, roles and
//! deactivation, invitations, the login rate limit, and search input full
//! of SQL and HTML metacharacters.

use reqwest::header;
use serde_json::{Value, json};

use chat_testkit::clients::{Api, Socket};

use crate::helpers::{Options, TestSuite, client_id, reply, widget_settings};

/// A browser's view of the API: the session cookie, the CSRF token, an Origin.
struct Browser {
    base: String,
    cookie: String,
    csrf: String,
    http: reqwest::Client,
}

impl Browser {
    async fn login(port: u16, email: &str, password: &str) -> Browser {
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password, "cookie": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let set_cookie = response.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        assert!(body["token"].is_null(), "no secret a script could read");
        Browser {
            base,
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            http,
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        csrf: Option<&str>,
        origin: Option<&str>,
    ) -> u16 {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(header::COOKIE, &self.cookie)
            .json(&json!({"text": "from the browser"}));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        request.send().await.unwrap().status().as_u16()
    }
}

#[tokio::test]
async fn a_cookie_session_changes_nothing_without_its_csrf_token_and_origin() {
    let t = TestSuite::start().await;
    let shop = t.shop("Cookie").await;
    let dialog = t.first_dialog(&shop.site_key, "c-1").await;
    let browser = Browser::login(t.port, &shop.email, &shop.password).await;
    let notes = format!("/api/v1/dialogs/{dialog}/notes");
    let own_origin = format!("http://127.0.0.1:{}", t.port);

    assert_eq!(browser.send("GET", "/api/v1/me", None, None).await, 200);
    assert_eq!(browser.send("POST", &notes, None, None).await, 403);
    assert_eq!(browser.send("POST", &notes, Some("0000"), None).await, 403);
    let evil = Some("https://evil.example");
    assert_eq!(
        browser
            .send("POST", &notes, Some(&browser.csrf), evil)
            .await,
        403
    );
    let api = t.manager_api(&shop).await;
    let (_, listed) = api.get(&notes).await;
    assert_eq!(
        listed["notes"].as_array().unwrap().len(),
        0,
        "nothing was written"
    );

    assert_eq!(
        browser
            .send("POST", &notes, Some(&browser.csrf), Some(&own_origin))
            .await,
        201
    );
    // The manager socket from another origin is refused before the upgrade.
    let token = api.token.as_deref();
    assert_eq!(
        Socket::try_manager(t.port, token, evil).await.err(),
        Some(403)
    );
    assert!(
        Socket::try_manager(t.port, token, Some(&own_origin))
            .await
            .is_ok()
    );

    assert_eq!(
        browser
            .send("POST", "/api/v1/auth/logout", Some(&browser.csrf), None)
            .await,
        204
    );
    assert_eq!(browser.send("GET", "/api/v1/me", None, None).await, 401);
    t.stop().await;
}

#[tokio::test]
async fn every_console_endpoint_says_401_to_an_ended_session_and_404_across_the_wall() {
    let t = TestSuite::start().await;
    let (shop_a, shop_b) = (t.shop("Wall A").await, t.shop("Wall B").await);
    let (api_a, api_b) = (t.manager_api(&shop_a).await, t.manager_api(&shop_b).await);
    let dialog = t.first_dialog(&shop_a.site_key, "wall-1").await;
    let (_, found) = api_a.get(&format!("/api/v1/dialogs/{dialog}")).await;
    let contact = found["contact_id"].as_str().unwrap().to_owned();
    let (status, template) = api_a
        .post("/api/v1/templates", json!({"name": "Hi", "text": "Hello!"}))
        .await;
    assert_eq!(status, 201);
    let template = template["id"].as_str().unwrap().to_owned();
    let (_, me) = api_a.get("/api/v1/me").await;
    let manager = me["id"].as_str().unwrap().to_owned();

    let wall: Vec<(&str, String, Value)> = vec![
        (
            "GET",
            format!("/api/v1/dialogs/{dialog}/notes"),
            Value::Null,
        ),
        (
            "POST",
            format!("/api/v1/dialogs/{dialog}/notes"),
            json!({"text": "sneaky"}),
        ),
        (
            "POST",
            format!("/api/v1/dialogs/{dialog}/assign"),
            json!({"manager_id": null}),
        ),
        ("POST", format!("/api/v1/dialogs/{dialog}/close"), json!({})),
        (
            "POST",
            format!("/api/v1/dialogs/{dialog}/reopen"),
            json!({}),
        ),
        (
            "POST",
            format!("/api/v1/dialogs/{dialog}/read"),
            json!({"seq": 1}),
        ),
        (
            "PATCH",
            format!("/api/v1/templates/{template}"),
            json!({"text": "sneaky"}),
        ),
        (
            "DELETE",
            format!("/api/v1/templates/{template}"),
            Value::Null,
        ),
        ("GET", format!("/api/v1/contacts/{contact}"), Value::Null),
        (
            "PATCH",
            format!("/api/v1/contacts/{contact}"),
            json!({"name": "Mallory"}),
        ),
        (
            "GET",
            format!("/api/v1/contacts/{contact}/timeline"),
            Value::Null,
        ),
        (
            "POST",
            format!("/api/v1/contacts/{contact}/messages"),
            json!({"client_message_id": "x", "text": "sneaky"}),
        ),
        (
            "PATCH",
            format!("/api/v1/managers/{manager}"),
            json!({"name": "Mallory"}),
        ),
    ];
    let call = |api: Api, method: &'static str, path: String, body: Value| async move {
        match method {
            "GET" => api.get(&path).await,
            "POST" => api.post(&path, body).await,
            "PATCH" => api.patch(&path, body).await,
            _ => api.delete(&path).await,
        }
    };
    for (method, path, body) in &wall {
        let (status, answer) = call(api_b.clone(), method, path.clone(), body.clone()).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    // Lists show B nothing of A's.
    for path in [
        "/api/v1/templates",
        "/api/v1/managers",
        "/api/v1/contacts?q=a",
        "/api/v1/dialogs/counts",
    ] {
        let (status, answer) = api_b.get(path).await;
        assert_eq!(status, 200, "{path}");
        let text = answer.to_string();
        assert!(
            !text.contains(&template) && !text.contains(&contact) && !text.contains(&manager),
            "{path}: {text}"
        );
    }
    // Nothing of A changed.
    let (_, dialog_now) = api_a.get(&format!("/api/v1/dialogs/{dialog}")).await;
    assert_eq!(
        (
            dialog_now["status"].as_str(),
            dialog_now["last_seq"].as_i64()
        ),
        (Some("open"), Some(1))
    );
    let (_, templates) = api_a.get("/api/v1/templates").await;
    assert_eq!(templates["templates"][0]["text"], "Hello!");

    // Every endpoint, with no credential and with an ended session: 401.
    let (status, _) = api_b.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, 204);
    for (method, path, body) in &wall {
        for api in [Api::new(t.port), api_b.clone()] {
            let (status, answer) = call(api, method, path.clone(), body.clone()).await;
            assert_eq!(status, 401, "{method} {path}: {answer}");
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn bad_input_gets_field_errors_and_duplicates_conflict() {
    let t = TestSuite::start().await;
    let shop = t.shop("Fields").await;
    let api = t.manager_api(&shop).await;
    let dialog = t.first_dialog(&shop.site_key, "fields-1").await;
    let (_, found) = api.get(&format!("/api/v1/dialogs/{dialog}")).await;
    let contact = found["contact_id"].as_str().unwrap().to_owned();

    let (status, body) = api
        .patch(
            &format!("/api/v1/contacts/{contact}"),
            json!({"name": "Anna", "email": "anna@", "phone": "call me"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["email"].is_string()
            && body["error"]["fields"]["phone"].is_string()
    );
    let (_, unchanged) = api.get(&format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(unchanged["name"], "", "nothing saved");

    let (status, body) = api
        .post("/api/v1/templates", json!({"name": " ", "text": ""}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["name"].is_string() && body["error"]["fields"]["text"].is_string()
    );
    api.post(
        "/api/v1/templates",
        json!({"name": "Greeting", "text": "Hi"}),
    )
    .await;
    let (status, body) = api
        .post(
            "/api/v1/templates",
            json!({"name": "GREETING", "text": "Hi"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    assert!(body["error"]["fields"]["name"].is_string());

    let add = |email: &str| json!({"email": email, "name": "Boris", "role": "manager", "password": "long enough pw"});
    let (status, body) = api.post("/api/v1/managers", add("not-an-email")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["email"].is_string());
    let (status, body) = api.post("/api/v1/managers", add(&shop.email)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    assert!(body["error"]["fields"]["email"].is_string());

    let (status, _) = api
        .post(
            &format!("/api/v1/dialogs/{dialog}/read"),
            json!({"seq": -1}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = api.get("/api/v1/dialogs?category=nobody").await;
    assert_eq!(status, 422);
    let (status, assigned) = api.get("/api/v1/dialogs?category=manager").await;
    assert_eq!(
        status, 200,
        "without manager_id: every dialog that has a manager"
    );
    assert_eq!(assigned["dialogs"].as_array().unwrap().len(), 0);
    let (status, _) = api.get("/api/v1/dialogs?cursor=").await;
    assert_eq!(status, 422, "an empty cursor is no cursor");
    t.stop().await;
}

#[tokio::test]
async fn roles_decide_who_manages_the_team_and_deactivation_ends_every_session() {
    let t = TestSuite::start().await;
    let shop = t.shop("Team").await;
    let owner = t.manager_api(&shop).await;
    let (status, added) = owner
        .post("/api/v1/managers", json!({"email": "boris@team.example", "name": "Boris", "role": "manager", "password": "boris password"}))
        .await;
    assert_eq!(status, 201, "{added}");
    let boris_id = added["manager"]["id"].as_str().unwrap().to_owned();
    let boris = Api::login(t.port, "boris@team.example", "boris password").await;

    let (status, body) = boris
        .post(
            "/api/v1/managers",
            json!({"email": "eve@team.example", "name": "Eve", "role": "owner"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, _) = owner
        .patch(
            &format!("/api/v1/managers/{}", owner_id(&owner).await),
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, 403, "nobody deactivates themselves");

    let mut socket = Socket::manager(t.port, boris.token.as_deref().unwrap()).await;
    socket.wait_for_type("hello").await;
    let (status, edited) = owner
        .patch(
            &format!("/api/v1/managers/{boris_id}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!((status, edited["active"].as_bool()), (200, Some(false)));
    assert_eq!(
        socket.closed().await.0,
        4401,
        "at once, not at the next check"
    );
    assert_eq!(boris.get("/api/v1/me").await.0, 401);
    let (status, _) = Api::new(t.port)
        .post(
            "/api/v1/auth/login",
            json!({"email": "boris@team.example", "password": "boris password"}),
        )
        .await;
    assert_eq!(status, 401, "a deactivated manager cannot sign in");
    let (_, team) = owner.get("/api/v1/managers").await;
    let listed = team["managers"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|m| m["id"] == boris_id.as_str() && m["online"] == false)
    );
    t.stop().await;
}

async fn owner_id(api: &Api) -> String {
    api.get("/api/v1/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_invitation_sets_a_password_once() {
    let t = TestSuite::start().await;
    let shop = t.shop("Invite").await;
    let owner = t.manager_api(&shop).await;
    let (status, added) = owner
        .post(
            "/api/v1/managers",
            json!({"email": "clara@invite.example", "name": "Clara", "role": "admin"}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    let url = added["invitation_url"].as_str().unwrap();
    let token = url.rsplit('/').next().unwrap();
    assert!(url.contains("/console/#/invite/"), "{url}");
    let anonymous = Api::new(t.port);
    let login = json!({"email": "clara@invite.example", "password": "clara's password"});
    assert_eq!(
        anonymous.post("/api/v1/auth/login", login.clone()).await.0,
        401
    );
    let accept = json!({"token": token, "password": "clara's password"});
    assert_eq!(
        anonymous
            .post(
                "/api/v1/auth/invitation",
                json!({"token": token, "password": "short"})
            )
            .await
            .0,
        422
    );
    assert_eq!(
        anonymous
            .post("/api/v1/auth/invitation", accept.clone())
            .await
            .0,
        204
    );
    assert_eq!(
        anonymous.post("/api/v1/auth/invitation", accept).await.0,
        404,
        "used once"
    );
    assert_eq!(anonymous.post("/api/v1/auth/login", login).await.0, 200);
    t.stop().await;
}

/// Made-up invitation tokens cost a lookup, not an Argon2 hash, and one
/// address gets a few tries a minute: a flood cannot slow the logins down.
#[tokio::test]
async fn made_up_invitations_run_no_hashes_and_are_rate_limited() {
    let t = TestSuite::start().await;
    let shop = t.shop("Flood").await;
    let passwords = &t.suite().gateway_passwords[0];
    let before = passwords.runs();
    let anonymous = Api::new(t.port);
    let posts = (0..40).map(|i| {
        let anonymous = anonymous.clone();
        async move {
            let body = json!({"token": format!("made-up-{i}"), "password": "a long password"});
            anonymous.post("/api/v1/auth/invitation", body).await.0
        }
    });
    let mut statuses = futures::future::join_all(posts).await;
    statuses.sort_unstable();
    let not_found = statuses.iter().filter(|&&s| s == 404).count();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(
        (not_found, limited),
        (10, 30),
        "ten tries a minute from one address: {statuses:?}"
    );
    assert_eq!(passwords.runs(), before, "no hash for a made-up token");
    // Logins are counted apart and still hash.
    let login = json!({"email": shop.email, "password": shop.password});
    assert_eq!(anonymous.post("/api/v1/auth/login", login).await.0, 200);
    assert_eq!(passwords.runs(), before + 1);
    t.stop().await;
}

#[tokio::test]
async fn my_sessions_are_listed_and_ended_one_or_all_others() {
    let t = TestSuite::start().await;
    let shop = t.shop("Devices").await;
    let (laptop, phone, tablet) = (
        t.manager_api(&shop).await,
        t.manager_api(&shop).await,
        t.manager_api(&shop).await,
    );
    let (_, listed) = laptop.get("/api/v1/sessions").await;
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let (_, phone_view) = phone.get("/api/v1/sessions").await;
    let phone_id = phone_view["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        laptop
            .delete(&format!("/api/v1/sessions/{phone_id}"))
            .await
            .0,
        204
    );
    assert_eq!(phone.get("/api/v1/me").await.0, 401);
    assert_eq!(laptop.delete("/api/v1/sessions").await.0, 204);
    assert_eq!(tablet.get("/api/v1/me").await.0, 401);
    assert_eq!(laptop.get("/api/v1/me").await.0, 200, "this one lives on");
    t.stop().await;
}

#[tokio::test]
async fn logins_are_limited_per_email_with_retry_after() {
    // Three a minute: one more every 20 s, far longer than the attempts take.
    let t = TestSuite::start_with(Options {
        gateway: gateway::Config {
            logins_per_minute_per_email: 3,
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let shop = t.shop("Limits").await;
    let anonymous = Api::new(t.port);
    let wrong = json!({"email": shop.email, "password": "wrong password"});
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(anonymous.post("/api/v1/auth/login", wrong.clone()).await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/api/v1/auth/login", t.port))
        .json(&json!({"email": shop.email, "password": shop.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429, "even the right password waits");
    let retry: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    t.stop().await;
}

#[tokio::test]
async fn search_and_filters_full_of_metacharacters_change_nothing_and_leak_nothing() {
    let t = TestSuite::start().await;
    let (shop_a, shop_b) = (t.shop("Meta A").await, t.shop("Meta B").await);
    let (api_a, api_b) = (t.manager_api(&shop_a).await, t.manager_api(&shop_b).await);
    let dialog = t.first_dialog(&shop_a.site_key, "meta-1").await;
    let (_, found) = api_a.get(&format!("/api/v1/dialogs/{dialog}")).await;
    let contact = found["contact_id"].as_str().unwrap();
    api_a
        .patch(
            &format!("/api/v1/contacts/{contact}"),
            json!({"name": "Anna", "email": "anna@meta.example"}),
        )
        .await;
    for nasty in [
        "%",
        "_",
        "' or '1'='1",
        "anna'; drop table contact; --",
        "<script>alert(1)</script>",
        "\\",
        "%25%00",
    ] {
        let q = urlencode(nasty);
        let (status, answer) = api_b.get(&format!("/api/v1/contacts?q={q}")).await;
        assert!(status == 200 || status == 422, "{nasty}: {status} {answer}");
        assert!(
            !answer.to_string().contains("anna@meta.example"),
            "{nasty} leaked: {answer}"
        );
        let (status, _) = api_b
            .get(&format!("/api/v1/dialogs?category={q}&status={q}"))
            .await;
        assert!(status == 422 || status == 400, "{nasty}: {status}");
    }
    let (_, still) = api_a.get("/api/v1/contacts?q=anna").await;
    assert_eq!(
        still["contacts"].as_array().unwrap().len(),
        1,
        "nothing changed"
    );
    t.stop().await;
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn a_note_stays_in_the_console() {
    let t = TestSuite::start().await;
    let shop = t.shop("Notes").await;
    let api = t.manager_api(&shop).await;
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "notes-1", None).await;
    visitor
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "hello"}))
        .await;
    let dialog = visitor.wait_for_type("ack").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut manager = Socket::manager(t.port, api.token.as_deref().unwrap()).await;
    manager.wait_for_type("hello").await;
    let (status, note) = api
        .post(
            &format!("/api/v1/dialogs/{dialog}/notes"),
            json!({"text": "VIP, secret discount"}),
        )
        .await;
    assert_eq!(status, 201, "{note}");
    let seen = manager.wait_for_type("note").await;
    assert_eq!(
        seen["note"]["text"], "VIP, secret discount",
        "managers see it live"
    );
    let (status, _) = api
        .post(
            &format!("/api/v1/dialogs/{dialog}/messages"),
            json!({"client_message_id": "r1", "text": "Hi!"}),
        )
        .await;
    assert_eq!(status, 201);
    // The visitor gets the later reply, and never the note.
    let reply = visitor
        .wait_for("the reply", |f| {
            f["type"] == "message" && f["message"]["text"] == "Hi!"
        })
        .await;
    assert_eq!(
        reply["message"]["seq"], 2,
        "a note is no message: no number of its own"
    );
    let frames = visitor.drain().await;
    assert!(
        frames
            .iter()
            .all(|f| !f.to_string().contains("secret discount")),
        "{frames:?}"
    );
    let (_, history) = api.get(&format!("/api/v1/dialogs/{dialog}/messages")).await;
    assert!(
        !history.to_string().contains("secret discount"),
        "not in the history either"
    );
    // The services behind messengers and e-mail saw the reply, and nothing of the note.
    let pool = t.env().pool().await;
    let note_id = uuid::Uuid::parse_str(note["id"].as_str().unwrap()).unwrap();
    chat_testkit::eventually("the notifier took the reply", || async {
        // The reply settled the visitor's message: alerted or answered up to it.
        let answered: Option<i64> = sqlx::query_scalar(
            "select alerted_seq from notification.dialog_state where dialog_id = $1",
        )
        .bind(uuid::Uuid::parse_str(&dialog).unwrap())
        .fetch_optional(&pool)
        .await
        .unwrap();
        (answered == Some(2)).then_some(())
    })
    .await;
    let queued: i64 =
        sqlx::query_scalar("select count(*) from channel_bridge.delivery where message_id = $1")
            .bind(note_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(queued, 0, "no messenger delivery for a note");
    pool.close().await;
    t.stop().await;
}

#[tokio::test]
async fn a_visitor_sees_a_manager_join_and_none_of_the_teams_other_changes() {
    let t = TestSuite::start().await;
    let shop = t.shop("Lines").await;
    let owner = t.manager_api(&shop).await;
    t.colleague(&shop, "Boris", "manager").await;
    let (_, team) = owner.get("/api/v1/managers").await;
    let id_of = |name: &str| {
        team["managers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["id"]
            .clone()
    };
    let (boris, me) = (id_of("Boris"), id_of("Manager"));
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "lines-1", None).await;
    visitor
        .send_json(json!({"type": "send", "client_message_id": client_id(), "text": "hello"}))
        .await;
    let dialog = visitor.wait_for_type("ack").await["message"]["dialog_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Seq 2 to 6: assigned to Boris, closed, reopened, returned to new, taken.
    for (change, body) in [
        ("assign", json!({"manager_id": boris})),
        ("close", json!({})),
        ("reopen", json!({})),
        ("assign", json!({"manager_id": null})),
        ("assign", json!({"manager_id": me})),
    ] {
        let (status, body) = owner
            .post(&format!("/api/v1/dialogs/{dialog}/{change}"), body)
            .await;
        assert_eq!(status, 200, "{change}: {body}");
    }
    let (_, history) = owner
        .get(&format!("/api/v1/dialogs/{dialog}/messages"))
        .await;
    let kinds: Vec<_> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["text"].as_str().unwrap(), m["system"]["kind"].as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("hello", None),
            ("Manager assigned the dialog to Boris", Some("assigned")),
            ("Manager closed the dialog", Some("closed")),
            ("Manager reopened the dialog", Some("reopened")),
            ("Manager returned the dialog to new", Some("returned")),
            ("Manager took the dialog", Some("took")),
        ],
        "managers see every change, with what it records"
    );

    // A second tab of the visitor's, from the start: the replayed history.
    let mut later = Socket::visitor(t.port, &shop.site_key, "lines-1", Some(0)).await;
    let hello = later.wait_for_type("hello").await;
    assert_eq!(
        hello["dialog"]["last_message_text"], "",
        "no preview of the team's line: {hello}"
    );
    reply(&owner, &dialog, "site", "Still with you").await;
    for (tab, socket) in [("live", &mut visitor), ("replayed", &mut later)] {
        let reply = socket
            .wait_for("the reply", |f| {
                f["type"] == "message" && f["message"]["text"] == "Still with you"
            })
            .await;
        let mut frames = socket.drain().await;
        frames.push(reply);
        let created: Vec<_> = frames
            .iter()
            .filter(|f| f["type"] == "dialog_created")
            .collect();
        if tab == "live" {
            assert_eq!(
                created.len(),
                1,
                "the live tab saw its dialog open: {frames:?}"
            );
        }
        for created in created {
            assert_eq!(
                created["dialog"]["last_message_text"], "",
                "{tab}: no preview: {created}"
            );
        }
        assert!(
            frames.iter().all(|f| {
                let text = f.to_string();
                !["assigned", "closed", "reopened", "returned", "took"]
                    .iter()
                    .any(|word| text.contains(word))
            }),
            "{tab}: {frames:?}"
        );
        let mut shown: Vec<_> = frames
            .iter()
            .filter(|f| f["type"] == "message" && f["message"]["seq"].as_i64() > Some(1))
            .map(|f| {
                let m = &f["message"];
                (
                    m["seq"].as_i64().unwrap(),
                    m["text"].as_str().unwrap().to_owned(),
                    m["system"].clone(),
                )
            })
            .collect();
        shown.sort_by_key(|(seq, ..)| *seq);
        assert_eq!(
            shown,
            [
                (
                    2,
                    "Boris joined the conversation".to_owned(),
                    json!({"kind": "joined", "actor_name": "", "manager_name": "Boris"})
                ),
                (
                    6,
                    "Manager joined the conversation".to_owned(),
                    json!({"kind": "joined", "actor_name": "", "manager_name": "Manager"})
                ),
                (7, "Still with you".to_owned(), Value::Null),
            ],
            "{tab}: a manager joining, then the reply; nothing of the rest"
        );
    }
    t.stop().await;
}

#[tokio::test]
async fn a_manager_chooses_the_consoles_language_for_themself_only() {
    let t = TestSuite::start().await;
    let shop = t.shop("Words").await;
    let owner = t.manager_api(&shop).await;
    let email = t.colleague(&shop, "Boris", "manager").await;
    let boris = Api::login(t.port, &email, &shop.password).await;
    assert_eq!(
        owner.get("/api/v1/me").await.1["language"],
        Value::Null,
        "the browser's, until chosen"
    );

    let (status, me) = owner.patch("/api/v1/me", json!({"language": "ru"})).await;
    assert_eq!((status, me["language"].as_str()), (200, Some("ru")), "{me}");
    let (status, refused) = owner.patch("/api/v1/me", json!({"language": "de"})).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["fields"]["language"].is_string(),
        "{refused}"
    );
    let (status, _) = owner
        .patch("/api/v1/me", json!({"language": "ru", "role": "owner"}))
        .await;
    assert_eq!(status, 422, "nothing else is changed here");
    assert_eq!(
        owner.get("/api/v1/me").await.1["language"],
        "ru",
        "kept, the refusals changed nothing"
    );
    assert_eq!(
        boris.get("/api/v1/me").await.1["language"],
        Value::Null,
        "theirs alone"
    );
    let (_, team) = boris.get("/api/v1/managers").await;
    assert!(
        team["managers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["language"] == "ru")
    );

    let (status, me) = owner.patch("/api/v1/me", json!({"language": null})).await;
    assert_eq!(
        (status, me["language"].clone()),
        (200, Value::Null),
        "back to the browser's"
    );
    assert_eq!(
        Api::new(t.port)
            .patch("/api/v1/me", json!({"language": "ru"}))
            .await
            .0,
        401
    );
    t.stop().await;
}

#[tokio::test]
async fn the_getting_started_checklist_ticks_what_the_shop_has_done_and_only_its_own() {
    let t = TestSuite::start().await;
    let shop = t.shop("Starting").await;
    let other = t.shop("Elsewhere").await;
    let api = t.manager_api(&shop).await;
    let others = t.manager_api(&other).await;
    let steps = |body: &Value| {
        [
            "widget_seen",
            "messenger_connected",
            "team_invited",
            "messages_set",
        ]
        .map(|step| body[step].as_bool())
    };
    let (status, fresh) = api.get("/api/v1/onboarding").await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(
        steps(&fresh),
        [Some(false); 4],
        "a new shop has done nothing: {fresh}"
    );

    // A page of the shop shows the widget.
    let mut visitor = Socket::visitor(t.port, &shop.site_key, "first-1", None).await;
    visitor.wait_for_type("hello").await;
    let page = "https://starting.example/catalogue";
    visitor
        .send_json(
            json!({"type": "page", "url": page, "title": "Catalogue", "page_view_id": "pv-1"}),
        )
        .await;
    visitor.drain().await;
    let seen = chat_testkit::eventually("the widget seen", || async {
        let (_, now) = api.get("/api/v1/onboarding").await;
        (now["widget_seen"] == true).then_some(now)
    })
    .await;
    assert_eq!(seen["widget_seen_url"], page);

    t.colleague(&shop, "Boris", "manager").await;
    let mut settings = widget_settings(&api).await;
    settings["offline_message"] = "Back at nine: leave your e-mail.".into();
    assert_eq!(api.put("/api/v1/widget/settings", settings).await.0, 200);
    t.connect_telegram(&shop).await;
    let (_, done) = api.get("/api/v1/onboarding").await;
    assert_eq!(steps(&done), [Some(true); 4], "{done}");

    let (_, theirs) = others.get("/api/v1/onboarding").await;
    assert_eq!(
        steps(&theirs),
        [Some(false); 4],
        "another shop's steps are its own: {theirs}"
    );
    assert_eq!(Api::new(t.port).get("/api/v1/onboarding").await.0, 401);
    t.stop().await;
}

#[tokio::test]
async fn make_devs_console_link_signs_the_demo_manager_in() {
    let t = TestSuite::start_with(Options {
        gateway: gateway::Config {
            dev_page: true,
            seed_demo: true,
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{}", t.port);
    let response = http
        .get(format!("{base}/dev/console"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()[header::LOCATION], "/console/");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let me: Value = http
        .get(format!("{base}/api/v1/me"))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "demo@example.com");
    t.stop().await;
}

/// An address may manage several shops: adding it to one says nothing of
/// the others, nobody can squat it for another shop, and signing in picks
/// the shop the password opens, or asks which when it opens several.
#[tokio::test]
async fn one_address_manages_several_shops_and_adding_it_reveals_nothing() {
    let t = TestSuite::start().await;
    let (tea, coffee) = (t.shop("Tea House").await, t.shop("Coffee Corner").await);
    let (tea_owner, coffee_owner) = (t.manager_api(&tea).await, t.manager_api(&coffee).await);
    let address = "olga@shops.example";
    let add = |password: &'static str| json!({"email": address, "name": "Olga", "role": "manager", "password": password});
    // The coffee shop adds her first; the tea shop learns nothing of it.
    assert_eq!(
        coffee_owner
            .post("/api/v1/managers", add("coffee password"))
            .await
            .0,
        201
    );
    let (status, added) = tea_owner
        .post("/api/v1/managers", add("tea password"))
        .await;
    assert_eq!(status, 201, "{added}");
    let (status, again) = tea_owner
        .post("/api/v1/managers", add("tea password"))
        .await;
    assert_eq!(
        status, 409,
        "within one shop an address is one manager: {again}"
    );

    let anonymous = Api::new(t.port);
    let login = |password: &str, account: Option<&str>| json!({"email": address, "password": password, "account_id": account});
    let (status, signed) = anonymous
        .post("/api/v1/auth/login", login("tea password", None))
        .await;
    assert_eq!(
        (status, signed["manager"]["account_id"].as_str()),
        (200, Some(tea.account_id.as_str()))
    );
    let (status, signed) = anonymous
        .post("/api/v1/auth/login", login("coffee password", None))
        .await;
    assert_eq!(
        (status, signed["manager"]["account_id"].as_str()),
        (200, Some(coffee.account_id.as_str()))
    );
    let (status, refused) = anonymous
        .post("/api/v1/auth/login", login("wrong", None))
        .await;
    assert_eq!(status, 401, "{refused}");
    assert!(
        refused["error"]["accounts"].is_null(),
        "nothing said: {refused}"
    );

    // The same password in both: she picks the shop.
    let tea_id = added["manager"]["id"].as_str().unwrap().to_owned();
    let set = json!({"password": "coffee password"});
    assert_eq!(
        tea_owner
            .patch(&format!("/api/v1/managers/{tea_id}"), set)
            .await
            .0,
        200
    );
    let (status, choice) = anonymous
        .post("/api/v1/auth/login", login("coffee password", None))
        .await;
    assert_eq!(
        (status, choice["error"]["code"].as_str()),
        (409, Some("account_choice")),
        "{choice}"
    );
    let mut names: Vec<&str> = choice["error"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Coffee Corner", "Tea House"]);
    let picked = login("coffee password", Some(&tea.account_id));
    let (status, signed) = anonymous.post("/api/v1/auth/login", picked).await;
    assert_eq!(
        (status, signed["manager"]["account_id"].as_str()),
        (200, Some(tea.account_id.as_str()))
    );
    let elsewhere = login("coffee password", Some(&uuid::Uuid::now_v7().to_string()));
    assert_eq!(anonymous.post("/api/v1/auth/login", elsewhere).await.0, 401);
    t.stop().await;
}
