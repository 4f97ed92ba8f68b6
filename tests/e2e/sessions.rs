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
