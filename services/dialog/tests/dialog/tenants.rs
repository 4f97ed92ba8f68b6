//! The tenant wall inside the dialog service: every call is scoped to its
//! account, so another account's dialog is "not found" and stays untouched.

use chat_proto::dialog::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::TestDialog;

#[tokio::test]
async fn another_accounts_dialog_cannot_be_read_listed_or_written() {
    let t = TestDialog::start().await;
    let (shop_a, shop_b) = (Uuid::now_v7(), Uuid::now_v7());
    let contact = Uuid::now_v7();
    let posted = t
        .visitor_says(shop_a, contact, "c1", "private")
        .await
        .unwrap();
    let dialog_id = posted.message.unwrap().dialog_id;

    let get = t
        .client
        .clone()
        .get_dialog(pb::GetDialogRequest {
            account_id: shop_b.to_string(),
            dialog_id: dialog_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(get.code(), Code::NotFound);
    let read = t.messages(shop_b, &dialog_id, 0, 0, 0).await.unwrap_err();
    assert_eq!(read.code(), Code::NotFound);
    let write = t
        .manager_says(shop_b, &dialog_id, "m1", "intrusion")
        .await
        .unwrap_err();
    assert_eq!(write.code(), Code::NotFound);
    let list = t
        .client
        .clone()
        .list_dialogs(pb::ListDialogsRequest {
            account_id: shop_b.to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(list.dialogs.is_empty());
    let open = t
        .client
        .clone()
        .find_contact_dialog(pb::FindContactDialogRequest {
            account_id: shop_b.to_string(),
            contact_id: contact.to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(open.dialog.is_none());

    // The same visitor writing to shop B gets a dialog of shop B's own.
    let elsewhere = t
        .visitor_says(shop_b, contact, "c1", "hello B")
        .await
        .unwrap();
    assert!(elsewhere.dialog_created);
    assert_ne!(elsewhere.message.unwrap().dialog_id, dialog_id);
    // Shop A's dialog is as it was.
    let a = t.messages(shop_a, &dialog_id, 0, 0, 0).await.unwrap();
    assert_eq!(a.messages.len(), 1);
    assert_eq!(a.messages[0].text, "private");
    t.stop().await;
}

#[tokio::test]
async fn a_visitor_cannot_write_into_another_visitors_dialog() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let owner = t
        .visitor_says(account, Uuid::now_v7(), "c1", "mine")
        .await
        .unwrap();
    let dialog_id = owner.message.unwrap().dialog_id;
    let request = pb::PostMessageRequest {
        account_id: account.to_string(),
        dialog_id: dialog_id.clone(),
        contact_id: Uuid::now_v7().to_string(),
        author_kind: pb::AuthorKind::Visitor as i32,
        client_message_id: "c2".into(),
        text: "not yours".into(),
        ..Default::default()
    };
    let refused = t.client.clone().post_message(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    assert_eq!(t.count("dialog.message").await, 1);
    t.stop().await;
}
