//! What the managers' console asks of the dialog service: categories and
//! counts, assignment, closing and reopening with system messages, read
//! positions and unread counts, notes and reply templates.

use chat_proto::dialog::v1 as pb;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{TestDialog, seqs};

fn list(account: Uuid, viewer: Uuid, category: pb::DialogCategory) -> pb::ListDialogsRequest {
    pb::ListDialogsRequest {
        account_id: account.to_string(),
        viewer_manager_id: viewer.to_string(),
        category: category as i32,
        status: pb::DialogStatus::Open as i32,
        ..Default::default()
    }
}

async fn ids(t: &TestDialog, request: pb::ListDialogsRequest) -> Vec<String> {
    let page = t.client.clone().list_dialogs(request).await.unwrap();
    page.into_inner()
        .dialogs
        .into_iter()
        .map(|d| d.id)
        .collect()
}

#[tokio::test]
async fn a_first_reply_takes_a_new_dialog_and_assigning_moves_it_with_a_system_message() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let (anna, boris) = (Uuid::now_v7(), Uuid::now_v7());
    let first = t
        .visitor_says(account, Uuid::now_v7(), "v1", "Hello")
        .await
        .unwrap();
    let untouched = t
        .visitor_says(account, Uuid::now_v7(), "v1", "Hi")
        .await
        .unwrap();
    let dialog = first.message.unwrap().dialog_id;
    let other = untouched.message.unwrap().dialog_id;
    assert_eq!(
        ids(&t, list(account, anna, pb::DialogCategory::New))
            .await
            .len(),
        2
    );

    t.reply_as(account, &dialog, anna, "m1", "Hello, how can I help?")
        .await
        .unwrap();
    assert_eq!(
        ids(&t, list(account, anna, pb::DialogCategory::Mine)).await,
        [dialog.as_str()]
    );
    assert_eq!(
        ids(&t, list(account, anna, pb::DialogCategory::New)).await,
        [other.as_str()]
    );

    let assigned = t
        .client
        .clone()
        .assign_dialog(pb::AssignDialogRequest {
            account_id: account.to_string(),
            dialog_id: dialog.clone(),
            manager_id: boris.to_string(),
            actor_manager_id: anna.to_string(),
            system_text: "Anna assigned the dialog to Boris".into(),
            system: Some(assigned_line()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(assigned.manager_id, boris.to_string());
    assert!(
        ids(&t, list(account, anna, pb::DialogCategory::Mine))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(&t, list(account, boris, pb::DialogCategory::Mine)).await,
        [dialog.as_str()]
    );
    let mut by_manager = list(account, anna, pb::DialogCategory::Manager);
    by_manager.manager_id = boris.to_string();
    assert_eq!(ids(&t, by_manager).await, [dialog.as_str()]);

    let history = t
        .messages(account, &dialog, 0, 0, 50)
        .await
        .unwrap()
        .messages;
    let last = history.last().unwrap();
    assert_eq!(
        (last.author_kind(), last.text.as_str()),
        (pb::AuthorKind::System, "Anna assigned the dialog to Boris")
    );
    assert_eq!(
        last.system,
        Some(assigned_line()),
        "what the line records is kept"
    );
    assert_eq!(seqs(&history), [1, 2, 3]);

    let counts = t
        .client
        .clone()
        .count_dialogs(pb::CountDialogsRequest {
            account_id: account.to_string(),
            status: pb::DialogStatus::Open as i32,
            viewer_manager_id: boris.to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((counts.all, counts.mine, counts.new), (2, 1, 1));
    assert_eq!(counts.managers.len(), 1);
    assert_eq!(counts.managers[0].manager_id, boris.to_string());
    t.stop().await;
}

#[tokio::test]
async fn closing_keeps_the_history_and_a_resent_client_id_after_it_stores_nothing() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let contact = Uuid::now_v7();
    let first = t
        .visitor_says(account, contact, "v1", "Hello")
        .await
        .unwrap();
    let dialog = first.message.unwrap().dialog_id;
    let change = |text: &str| pb::ChangeStatusRequest {
        account_id: account.to_string(),
        dialog_id: dialog.clone(),
        actor_manager_id: Uuid::now_v7().to_string(),
        system_text: text.into(),
        // As a gateway from before lines kept their record asks.
        system: None,
    };
    let closed = t
        .client
        .clone()
        .close_dialog(change("Anna closed the dialog"))
        .await
        .unwrap();
    assert_eq!(closed.get_ref().status(), pb::DialogStatus::Closed);
    let again = t
        .client
        .clone()
        .close_dialog(change("again"))
        .await
        .unwrap();
    assert_eq!(
        again.get_ref().last_seq,
        2,
        "closing a closed dialog records nothing"
    );

    let resent = t
        .visitor_says(account, contact, "v1", "Hello")
        .await
        .unwrap();
    assert!(resent.duplicate, "the resent message was stored already");
    let closed_list = pb::ListDialogsRequest {
        status: pb::DialogStatus::Closed as i32,
        ..list(account, Uuid::now_v7(), pb::DialogCategory::Unspecified)
    };
    assert_eq!(ids(&t, closed_list.clone()).await, [dialog.as_str()]);

    let next = t
        .visitor_says(account, contact, "v2", "One more thing")
        .await
        .unwrap();
    assert_eq!(
        next.message.unwrap().dialog_id,
        dialog,
        "writing again reopens it"
    );
    assert!(ids(&t, closed_list).await.is_empty());
    let history = t
        .messages(account, &dialog, 0, 0, 50)
        .await
        .unwrap()
        .messages;
    let texts: Vec<&str> = history.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["Hello", "Anna closed the dialog", "One more thing"]);

    t.client
        .clone()
        .close_dialog(change("Closed"))
        .await
        .unwrap();
    let reopened = t
        .client
        .clone()
        .reopen_dialog(change("Reopened"))
        .await
        .unwrap();
    assert_eq!(reopened.get_ref().status(), pb::DialogStatus::Open);
    t.stop().await;
}

#[tokio::test]
async fn unread_counts_follow_each_managers_read_position() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let contact = Uuid::now_v7();
    let (anna, boris) = (Uuid::now_v7(), Uuid::now_v7());
    let dialog = t
        .visitor_says(account, contact, "v1", "1")
        .await
        .unwrap()
        .message
        .unwrap()
        .dialog_id;
    t.visitor_says(account, contact, "v2", "2").await.unwrap();
    let unread = |viewer: Uuid| {
        let mut client = t.client.clone();
        let request = pb::GetDialogRequest {
            account_id: account.to_string(),
            dialog_id: dialog.clone(),
            viewer_manager_id: viewer.to_string(),
        };
        async move {
            client
                .get_dialog(request)
                .await
                .unwrap()
                .into_inner()
                .unread_count
        }
    };
    assert_eq!((unread(anna).await, unread(boris).await), (2, 2));
    let read = |manager: Uuid, seq: i64| {
        let mut client = t.client.clone();
        let request = pb::MarkReadRequest {
            account_id: account.to_string(),
            dialog_id: dialog.clone(),
            manager_id: manager.to_string(),
            seq,
        };
        async move { client.mark_read(request).await.map(|r| r.into_inner()) }
    };
    assert_eq!(read(anna, 1).await.unwrap().unread_count, 1);
    assert_eq!(
        read(anna, 0).await.unwrap().read_seq,
        1,
        "a read position never moves back"
    );
    assert_eq!((unread(anna).await, unread(boris).await), (1, 2));
    t.reply_as(account, &dialog, boris, "m1", "Hi")
        .await
        .unwrap();
    assert_eq!(unread(boris).await, 0, "replying reads the dialog");
    t.visitor_says(account, contact, "v3", "3").await.unwrap();
    assert_eq!((unread(anna).await, unread(boris).await), (2, 1));
    let read_all = read(anna, 1000).await.unwrap();
    assert_eq!((read_all.read_seq, read_all.unread_count), (4, 0));
    let elsewhere = pb::MarkReadRequest {
        account_id: Uuid::now_v7().to_string(),
        dialog_id: dialog.clone(),
        manager_id: anna.to_string(),
        seq: 1,
    };
    let refused = t.client.clone().mark_read(elsewhere).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    t.stop().await;
}

#[tokio::test]
async fn notes_stay_beside_the_history_and_only_in_their_account() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let dialog = t
        .visitor_says(account, Uuid::now_v7(), "v1", "Hello")
        .await
        .unwrap()
        .message
        .unwrap()
        .dialog_id;
    let author = Uuid::now_v7();
    let add = |account: Uuid, text: &str| pb::AddNoteRequest {
        account_id: account.to_string(),
        dialog_id: dialog.clone(),
        author_id: author.to_string(),
        text: text.into(),
        client_note_id: format!("n-{text}"),
    };
    let added = t
        .client
        .clone()
        .add_note(add(account, "VIP: be nice"))
        .await
        .unwrap()
        .into_inner();
    let note = added.note.unwrap();
    assert_eq!(
        (note.text.as_str(), added.duplicate),
        ("VIP: be nice", false)
    );
    let again = t
        .client
        .clone()
        .add_note(add(account, "VIP: be nice"))
        .await
        .unwrap()
        .into_inner();
    assert!(again.duplicate, "a retry stores the note once");
    assert_eq!(again.note.unwrap().id, note.id);
    let blank = t
        .client
        .clone()
        .add_note(add(account, "  "))
        .await
        .unwrap_err();
    assert_eq!(blank.code(), Code::InvalidArgument);
    assert_eq!(chat_platform::grpc::status_fields(&blank)[0].0, "text");
    let foreign = t
        .client
        .clone()
        .add_note(add(Uuid::now_v7(), "sneaky"))
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::NotFound);

    let notes = t
        .client
        .clone()
        .list_notes(pb::ListNotesRequest {
            account_id: account.to_string(),
            dialog_id: dialog.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .notes;
    assert_eq!(
        notes.iter().map(|n| n.id.clone()).collect::<Vec<_>>(),
        [note.id]
    );
    let history = t
        .messages(account, &dialog, 0, 0, 50)
        .await
        .unwrap()
        .messages;
    assert_eq!(seqs(&history), [1], "a note is not a message");
    t.stop().await;
}

#[tokio::test]
async fn templates_are_kept_by_name_per_account() {
    let t = TestDialog::start().await;
    let (account, other) = (Uuid::now_v7(), Uuid::now_v7());
    let create = |account: Uuid, name: &str, text: &str| pb::CreateTemplateRequest {
        account_id: account.to_string(),
        name: name.into(),
        text: text.into(),
    };
    let mut client = t.client.clone();
    let greeting = client
        .create_template(create(account, "Greeting", "Hello! How can I help?"))
        .await
        .unwrap()
        .into_inner();
    client
        .create_template(create(account, "Delivery", "We deliver in 2 days."))
        .await
        .unwrap();
    let taken = client
        .create_template(create(account, "greeting", "x"))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert_eq!(chat_platform::grpc::status_fields(&taken)[0].0, "name");
    client
        .create_template(create(other, "Greeting", "Other shop"))
        .await
        .unwrap();
    let empty = client
        .create_template(create(account, "", ""))
        .await
        .unwrap_err();
    let mut fields: Vec<String> = chat_platform::grpc::status_fields(&empty)
        .into_iter()
        .map(|f| f.0)
        .collect();
    fields.sort();
    assert_eq!(fields, ["name", "text"]);

    let names = |account: Uuid| {
        let mut client = t.client.clone();
        async move {
            let list = client
                .list_templates(pb::ListTemplatesRequest {
                    account_id: account.to_string(),
                })
                .await
                .unwrap()
                .into_inner();
            list.templates
                .into_iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(account).await, ["Delivery", "Greeting"]);
    let edited = client
        .update_template(pb::UpdateTemplateRequest {
            account_id: account.to_string(),
            template_id: greeting.id.clone(),
            text: Some("Hi there!".into()),
            name: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (edited.name.as_str(), edited.text.as_str()),
        ("Greeting", "Hi there!")
    );
    let foreign = client
        .delete_template(pb::DeleteTemplateRequest {
            account_id: other.to_string(),
            template_id: greeting.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(foreign.code(), Code::NotFound);
    client
        .delete_template(pb::DeleteTemplateRequest {
            account_id: account.to_string(),
            template_id: greeting.id,
        })
        .await
        .unwrap();
    assert_eq!(names(account).await, ["Delivery"]);
    assert_eq!(names(other).await, ["Greeting"]);
    t.stop().await;
}

fn assigned_line() -> pb::SystemEvent {
    pb::SystemEvent {
        kind: "assigned".into(),
        actor_name: "Anna".into(),
        manager_name: "Boris".into(),
    }
}

#[tokio::test]
async fn a_system_line_that_does_not_fit_its_change_is_refused_and_changes_nothing() {
    let t = TestDialog::start().await;
    let account = Uuid::now_v7();
    let first = t
        .visitor_says(account, Uuid::now_v7(), "v1", "Hello")
        .await
        .unwrap();
    let dialog = first.message.unwrap().dialog_id;
    let close = |system: pb::SystemEvent| pb::ChangeStatusRequest {
        account_id: account.to_string(),
        dialog_id: dialog.clone(),
        actor_manager_id: Uuid::now_v7().to_string(),
        system_text: "Anna closed the dialog".into(),
        system: Some(system),
    };
    let wrong_kind = t.client.clone().close_dialog(close(assigned_line())).await;
    assert_eq!(wrong_kind.unwrap_err().code(), tonic::Code::InvalidArgument);
    let named = pb::SystemEvent {
        kind: "closed".into(),
        ..assigned_line()
    };
    let stray_name = t.client.clone().close_dialog(close(named)).await;
    assert_eq!(stray_name.unwrap_err().code(), tonic::Code::InvalidArgument);
    let history = t
        .messages(account, &dialog, 0, 0, 50)
        .await
        .unwrap()
        .messages;
    assert_eq!(seqs(&history), [1], "nothing was recorded");

    let closed = pb::SystemEvent {
        kind: "closed".into(),
        actor_name: "Anna".into(),
        manager_name: String::new(),
    };
    let done = t
        .client
        .clone()
        .close_dialog(close(closed.clone()))
        .await
        .unwrap();
    assert_eq!(done.get_ref().status(), pb::DialogStatus::Closed);
    let history = t
        .messages(account, &dialog, 0, 0, 50)
        .await
        .unwrap()
        .messages;
    assert_eq!(history.last().unwrap().system, Some(closed));
    t.stop().await;
}
