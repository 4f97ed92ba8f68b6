//! Reading back: messages page forward (replay) and backward (history), and
//! dialogs page newest first with a keyset cursor.

use chat_proto::dialog::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{TestDialog, seqs};

#[tokio::test]
async fn messages_page_forward_from_a_sequence_and_backward_through_history() {
    let t = TestDialog::start().await;
    let (account, contact) = (Uuid::now_v7(), Uuid::now_v7());
    let mut dialog_id = String::new();
    for i in 1..=7 {
        let posted = t
            .visitor_says(account, contact, &format!("c{i}"), &format!("m{i}"))
            .await;
        dialog_id = posted.unwrap().message.unwrap().dialog_id;
    }

    let after = t.messages(account, &dialog_id, 2, 0, 3).await.unwrap();
    assert_eq!(seqs(&after.messages), [3, 4, 5]);
    assert!(after.has_more);
    let rest = t.messages(account, &dialog_id, 5, 0, 3).await.unwrap();
    assert_eq!(seqs(&rest.messages), [6, 7]);
    assert!(!rest.has_more);

    let newest = t.messages(account, &dialog_id, 0, 8, 3).await.unwrap();
    assert_eq!(seqs(&newest.messages), [5, 6, 7]);
    assert!(newest.has_more);
    let oldest = t.messages(account, &dialog_id, 0, 3, 3).await.unwrap();
    assert_eq!(seqs(&oldest.messages), [1, 2]);
    assert!(!oldest.has_more);

    let negative = t.messages(account, &dialog_id, -1, 0, 3).await.unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    t.stop().await;
}

#[tokio::test]
async fn dialogs_list_newest_activity_first_in_pages() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let mut opened = Vec::new();
    for i in 0..5 {
        let posted = t
            .visitor_says(account, Uuid::now_v7(), "c1", &format!("visitor {i}"))
            .await
            .unwrap();
        opened.push(posted.message.unwrap().dialog_id);
    }
    // The first dialog gets newer activity: it moves to the top.
    t.manager_says(account, &opened[0], "m1", "answer")
        .await
        .unwrap();
    let mut expected: Vec<String> = opened[1..].iter().rev().cloned().collect();
    expected.insert(0, opened[0].clone());

    let mut listed = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = t
            .client
            .clone()
            .list_dialogs(pb::ListDialogsRequest {
                account_id: account.to_string(),
                status: pb::DialogStatus::Open as i32,
                limit: 2,
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.dialogs.len() <= 2);
        listed.extend(page.dialogs.into_iter().map(|d| d.id));
        if page.next_cursor.is_empty() {
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(listed, expected);

    let closed = t
        .client
        .clone()
        .list_dialogs(pb::ListDialogsRequest {
            account_id: account.to_string(),
            status: pb::DialogStatus::Closed as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(closed.dialogs.is_empty());

    let bad_cursor = t
        .client
        .clone()
        .list_dialogs(pb::ListDialogsRequest {
            account_id: account.to_string(),
            cursor: "garbage".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_cursor.code(), Code::InvalidArgument);
    t.stop().await;
}
