//! What managers do with contacts: edit their details (checked field by
//! field, published to the other managers) and find them by part of a name
//! or an e-mail, each account only its own.

use std::collections::HashMap;

use chat_proto::contact::v1 as pb;
use chat_proto::events::v1 as ev;
use prost::Message as _;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::TestContact;

fn edit(account: Uuid, contact_id: &str) -> pb::UpdateContactRequest {
    pb::UpdateContactRequest {
        account_id: account.to_string(),
        contact_id: contact_id.to_owned(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_edit_is_checked_saved_whole_and_published() {
    let t = TestContact::start().await;
    let account = Uuid::now_v7();
    let contact = t.resolve(account, "browser-1").await.unwrap();
    let bus = t.env.bus().await;

    let bad = pb::UpdateContactRequest {
        name: Some("Anna".into()),
        email: Some("anna-at-example".into()),
        phone: Some("call me".into()),
        ..edit(account, &contact.id)
    };
    let refused = t.client.clone().update_contact(bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let mut fields: Vec<String> = chat_platform::grpc::status_fields(&refused)
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    fields.sort();
    assert_eq!(fields, ["email", "phone"]);

    let good = pb::UpdateContactRequest {
        name: Some("Anna Petrova".into()),
        email: Some("Anna.Petrova@Shop.Example".into()),
        phone: Some("+7 912 345-67-89".into()),
        custom_fields: HashMap::from([("size".to_owned(), "42".to_owned())]),
        replace_custom_fields: true,
        ..edit(account, &contact.id)
    };
    let saved = t
        .client
        .clone()
        .update_contact(good)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        saved.name, "Anna Petrova",
        "the refused edit changed nothing, this one all"
    );
    assert_eq!(saved.email, "anna.petrova@shop.example");
    assert_eq!(saved.custom_fields["size"], "42");
    assert_eq!(saved.channels, ["site", "email"]);

    let only_phone = pb::UpdateContactRequest {
        phone: Some(String::new()),
        ..edit(account, &contact.id)
    };
    let cleared = t
        .client
        .clone()
        .update_contact(only_phone)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (cleared.name.as_str(), cleared.phone.as_str()),
        ("Anna Petrova", "")
    );

    let events = chat_testkit::eventually("both edits published", || async {
        let events = t.env.events(&bus).await;
        let updates: Vec<_> = events
            .into_iter()
            .filter(|e| e.envelope.r#type == "contact.contact_updated")
            .collect();
        (updates.len() == 2).then_some(updates)
    })
    .await;
    let first = ev::ContactUpdated::decode(events[0].envelope.payload.as_slice()).unwrap();
    assert_eq!(first.contact.unwrap().name, "Anna Petrova");

    let elsewhere = t
        .client
        .clone()
        .update_contact(pb::UpdateContactRequest {
            name: Some("Mallory".into()),
            ..edit(Uuid::now_v7(), &contact.id)
        })
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), Code::NotFound);
    t.stop().await;
}

#[tokio::test]
async fn search_finds_part_of_a_name_or_email_in_its_own_account_best_first() {
    let t = TestContact::start().await;
    let (account, other) = (Uuid::now_v7(), Uuid::now_v7());
    let people = [
        ("v1", "Anna Petrova", "anna.petrova@mail.example"),
        ("v2", "Boris Annenkov", "boris@shop.example"),
        ("v3", "Clara", "clara_100%@mail.example"),
    ];
    for (visitor, name, email) in people {
        let contact = t.resolve(account, visitor).await.unwrap();
        let change = pb::UpdateContactRequest {
            name: Some(name.into()),
            email: Some(email.into()),
            ..edit(account, &contact.id)
        };
        t.client.clone().update_contact(change).await.unwrap();
    }
    let stranger = t.resolve(other, "v1").await.unwrap();
    let change = pb::UpdateContactRequest {
        name: Some("Anna Other-Shop".into()),
        ..edit(other, &stranger.id)
    };
    t.client.clone().update_contact(change).await.unwrap();

    let search = |query: &str| {
        let mut client = t.client.clone();
        let request = pb::SearchContactsRequest {
            account_id: account.to_string(),
            query: query.into(),
            limit: 0,
        };
        async move {
            let found = client
                .search_contacts(request)
                .await
                .map(|r| r.into_inner());
            found.map(|f| f.contacts.into_iter().map(|c| c.name).collect::<Vec<_>>())
        }
    };
    assert_eq!(search("petrova@mail").await.unwrap(), ["Anna Petrova"]);
    let mut part_of_names = search("ANN").await.unwrap();
    part_of_names.sort();
    assert_eq!(part_of_names, ["Anna Petrova", "Boris Annenkov"]);
    assert_eq!(
        search("boris@shop.example").await.unwrap(),
        ["Boris Annenkov"]
    );
    // Wildcards and quotes are plain characters.
    assert_eq!(search("100%").await.unwrap(), ["Clara"]);
    assert!(search("a%m").await.unwrap().is_empty(), "% is no wildcard");
    assert!(
        search("_").await.unwrap().len() == 1,
        "only Clara has an underscore"
    );
    assert!(search("' or 1=1 --").await.unwrap().is_empty());
    assert!(search("<script>").await.unwrap().is_empty());
    let empty = search("   ").await.unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    t.stop().await;
}
