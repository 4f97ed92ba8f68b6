//! Contacts of site visitors: created on first sight, the same ever after,
//! each account with its own.

use chat_proto::contact::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::TestContact;

#[tokio::test]
async fn a_visitor_gets_one_contact_however_often_and_concurrently_resolved() {
    let t = TestContact::start().await;
    let account = Uuid::now_v7();
    let resolves = (0..8).map(|_| t.resolve(account, "browser-1"));
    let contacts = futures::future::join_all(resolves).await;
    let first = contacts[0].as_ref().unwrap();
    assert_eq!(first.visitor_id, "browser-1");
    assert_eq!(first.account_id, account.to_string());
    for contact in &contacts {
        assert_eq!(contact.as_ref().unwrap().id, first.id);
    }
    let got = t
        .client
        .clone()
        .get_contact(pb::GetContactRequest {
            account_id: account.to_string(),
            contact_id: first.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.id, first.id);
    t.stop().await;
}

/// The gateway looks a visitor up without creating anything until they do
/// something that needs a contact, which then gets the id it chose.
#[tokio::test]
async fn a_lookup_creates_nothing_and_a_creation_takes_the_id_asked_for() {
    let t = TestContact::start().await;
    let account = Uuid::now_v7();
    let resolve = |lookup_only: bool, new_contact_id: String| {
        let mut client = t.client.clone();
        async move {
            client
                .resolve_visitor(pb::ResolveVisitorRequest {
                    account_id: account.to_string(),
                    visitor_id: "browser-2".into(),
                    lookup_only,
                    new_contact_id,
                })
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let wanted = Uuid::new_v4().to_string();
    let missing = resolve(true, String::new()).await.unwrap();
    assert_eq!(missing.id, "", "no contact yet: none made");
    let created = resolve(false, wanted.clone()).await.unwrap();
    assert_eq!(created.id, wanted);
    let found = resolve(true, String::new()).await.unwrap();
    assert_eq!(found.id, wanted, "found once created");
    let again = resolve(false, Uuid::new_v4().to_string()).await.unwrap();
    assert_eq!(again.id, wanted, "an existing contact keeps its id");
    t.stop().await;
}

#[tokio::test]
async fn the_same_visitor_id_in_two_shops_is_two_contacts_walled_apart() {
    let t = TestContact::start().await;
    let (shop_a, shop_b) = (Uuid::now_v7(), Uuid::now_v7());
    let in_a = t.resolve(shop_a, "browser-1").await.unwrap();
    let in_b = t.resolve(shop_b, "browser-1").await.unwrap();
    assert_ne!(in_a.id, in_b.id);

    let crossing = t
        .client
        .clone()
        .get_contact(pb::GetContactRequest {
            account_id: shop_b.to_string(),
            contact_id: in_a.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(crossing.code(), Code::NotFound);
    let timeline = t.timeline(shop_b, &in_a.id).await.unwrap_err();
    assert_eq!(timeline.code(), Code::NotFound);
    t.stop().await;
}

#[tokio::test]
async fn malformed_visitor_ids_are_refused_and_create_nothing() {
    let t = TestContact::start().await;
    let account = Uuid::now_v7();
    for bad in ["", "has space", "<script>", &"a".repeat(65)] {
        let refused = t.resolve(account, bad).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{bad:?}");
    }
    let pool = t.env.pool().await;
    let n: i64 = sqlx::query_scalar("select count(*) from contact.contact")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    pool.close().await;
    t.stop().await;
}
