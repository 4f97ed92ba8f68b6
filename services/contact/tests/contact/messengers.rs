//! Contacts of people writing through messengers: found by their id on the
//! platform, made once (however many first messages arrive at once), named
//! from their profile, reachable on that messenger, each shop with its own.

use tonic::Code;
use uuid::Uuid;

use crate::helpers::TestContact;

#[tokio::test]
async fn a_messenger_user_gets_one_named_contact_however_often_and_concurrently_resolved() {
    let t = TestContact::start().await;
    let account = Uuid::now_v7();
    let resolves = (0..8).map(|_| t.messenger_user(account, "telegram", "42", "  Анна Петрова "));
    let contacts = futures::future::join_all(resolves).await;
    let first = contacts[0].as_ref().unwrap();
    for contact in &contacts {
        assert_eq!(contact.as_ref().unwrap().id, first.id);
    }
    assert_eq!(first.name, "Анна Петрова", "trimmed");
    assert_eq!(first.channels, ["telegram"]);
    assert_eq!(first.visitor_id, "", "no browser of theirs is known");

    // Later messages find the same contact; a changed profile name does not
    // overwrite what the contact is called.
    let later = t
        .messenger_user(account, "telegram", "42", "Anya")
        .await
        .unwrap();
    assert_eq!(
        (later.id.as_str(), later.name.as_str()),
        (first.id.as_str(), "Анна Петрова")
    );

    // The same number on another messenger is another person.
    let on_vk = t.messenger_user(account, "vk", "42", "Анна").await.unwrap();
    assert_ne!(on_vk.id, first.id);
    assert_eq!(on_vk.channels, ["vk"]);

    let pool = t.env.pool().await;
    let contacts: i64 = sqlx::query_scalar("select count(*) from contact.contact")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        contacts, 2,
        "no contact was left over by the concurrent calls"
    );
    pool.close().await;
    t.stop().await;
}

#[tokio::test]
async fn the_same_messenger_user_in_two_shops_is_two_contacts_walled_apart() {
    let t = TestContact::start().await;
    let (shop_a, shop_b) = (Uuid::now_v7(), Uuid::now_v7());
    let in_a = t
        .messenger_user(shop_a, "facebook", "psid-1", "A")
        .await
        .unwrap();
    let in_b = t
        .messenger_user(shop_b, "facebook", "psid-1", "A")
        .await
        .unwrap();
    assert_ne!(in_a.id, in_b.id);
    assert_eq!(in_a.account_id, shop_a.to_string());
    assert_eq!(in_b.account_id, shop_b.to_string());
    let crossing = t
        .client
        .clone()
        .get_contact(chat_proto::contact::v1::GetContactRequest {
            account_id: shop_b.to_string(),
            contact_id: in_a.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(crossing.code(), Code::NotFound);
    t.stop().await;
}

#[tokio::test]
async fn bad_messenger_users_are_refused_by_field_and_create_nothing() {
    let t = TestContact::start().await;
    let account = Uuid::now_v7();
    let long = "9".repeat(129);
    for (channel, external_id, field) in [
        ("site", "42", "channel"),
        ("email", "42", "channel"),
        ("", "42", "channel"),
        ("telegram", "", "external_id"),
        ("telegram", long.as_str(), "external_id"),
        ("vk", "4\n2", "external_id"),
    ] {
        let refused = t
            .messenger_user(account, channel, external_id, "A")
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{channel:?} {external_id:?}"
        );
        let fields = chat_platform::grpc::status_fields(&refused);
        assert_eq!(fields.len(), 1, "{fields:?}");
        assert_eq!(fields[0].0, field);
    }
    let not_an_account = t
        .client
        .clone()
        .resolve_messenger_user(chat_proto::contact::v1::ResolveMessengerUserRequest {
            account_id: "nope".into(),
            channel: "telegram".into(),
            external_id: "42".into(),
            name: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(not_an_account.code(), Code::InvalidArgument);

    // A good one afterwards is the only contact there is.
    t.messenger_user(account, "telegram", "42", "")
        .await
        .unwrap();
    let pool = t.env.pool().await;
    let contacts: i64 = sqlx::query_scalar("select count(*) from contact.contact")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(contacts, 1);
    pool.close().await;
    t.stop().await;
}
