//! Files in messages: kept for a dialog, images checked and written again,
//! carried by messages of that dialog only, and given back only to its
//! account's managers and its own visitor.

use std::io::Cursor;

use chat_proto::dialog::v1 as pb;
use image::{DynamicImage, ImageFormat, RgbImage};
use uuid::Uuid;

use crate::helpers::TestDialog;

fn photo(width: u32, height: u32) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
        .unwrap();
    bytes
}

/// A file a visitor sends for their dialog.
fn visitor_file(
    account_id: Uuid,
    contact_id: Uuid,
    name: &str,
    data: Vec<u8>,
) -> pb::PutFileRequest {
    pb::PutFileRequest {
        account_id: account_id.to_string(),
        contact_id: contact_id.to_string(),
        uploader_kind: pb::AuthorKind::Visitor as i32,
        uploader_id: contact_id.to_string(),
        name: name.into(),
        data,
        ..Default::default()
    }
}

async fn get(
    t: &TestDialog,
    account_id: Uuid,
    file_id: &str,
    visitor: Option<Uuid>,
    thumbnail: bool,
) -> Result<pb::GetFileResponse, tonic::Status> {
    let request = pb::GetFileRequest {
        account_id: account_id.to_string(),
        file_id: file_id.into(),
        contact_id: visitor.map(|v| v.to_string()).unwrap_or_default(),
        thumbnail,
    };
    t.client
        .clone()
        .get_file(request)
        .await
        .map(tonic::Response::into_inner)
}

async fn post_files(
    t: &TestDialog,
    account_id: Uuid,
    contact_id: Uuid,
    client_message_id: &str,
    ids: Vec<String>,
) -> Result<pb::PostMessageResponse, tonic::Status> {
    let request = pb::PostMessageRequest {
        account_id: account_id.to_string(),
        contact_id: contact_id.to_string(),
        author_kind: pb::AuthorKind::Visitor as i32,
        author_id: contact_id.to_string(),
        client_message_id: client_message_id.into(),
        channel: pb::Channel::Site as i32,
        attachment_ids: ids,
        ..Default::default()
    };
    t.client
        .clone()
        .post_message(request)
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_photo_is_kept_written_again_and_sent_in_a_message() {
    let t = TestDialog::start().await;
    let (account_id, contact_id) = (Uuid::now_v7(), Uuid::now_v7());
    let file = t
        .client
        .clone()
        .put_file(visitor_file(
            account_id,
            contact_id,
            "holiday.jpeg",
            photo(1000, 600),
        ))
        .await
        .expect("a photo is taken")
        .into_inner();
    assert_eq!(
        (
            file.name.as_str(),
            file.content_type.as_str(),
            file.width,
            file.height
        ),
        ("holiday.jpeg", "image/jpeg", 1000, 600)
    );
    let original = get(&t, account_id, &file.id, None, false).await.unwrap();
    assert_eq!(original.content_type, "image/jpeg");
    assert_eq!(original.data.len() as i64, file.size);
    let thumbnail = get(&t, account_id, &file.id, Some(contact_id), true)
        .await
        .unwrap();
    let small = image::load_from_memory(&thumbnail.data).unwrap();
    assert_eq!((small.width(), small.height()), (480, 288));

    // A message of the file alone: no text, previewed by its name.
    let posted = post_files(&t, account_id, contact_id, "c1", vec![file.id.clone()])
        .await
        .expect("a message of a file");
    let message = posted.message.unwrap();
    assert_eq!(message.text, "");
    assert_eq!(message.attachments, vec![file.clone()]);
    let dialog = t
        .client
        .clone()
        .get_dialog(pb::GetDialogRequest {
            account_id: account_id.to_string(),
            dialog_id: message.dialog_id.clone(),
            viewer_manager_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dialog.last_message_text, "📎 holiday.jpeg");
    let listed = t
        .messages(account_id, &message.dialog_id, 0, 0, 10)
        .await
        .unwrap();
    assert_eq!(listed.messages[0].attachments, vec![file]);
    // The same message again is the one stored.
    let again = post_files(
        &t,
        account_id,
        contact_id,
        "c1",
        vec![message.attachments[0].id.clone()],
    )
    .await
    .unwrap();
    assert!(again.duplicate);
    t.stop().await;
}

#[tokio::test]
async fn what_is_not_taken_is_refused_with_its_reason_and_nothing_kept() {
    let t = TestDialog::start().await;
    let (account_id, contact_id) = (Uuid::now_v7(), Uuid::now_v7());
    let refused = |name: &str, data: Vec<u8>| {
        let request = visitor_file(account_id, contact_id, name, data);
        let mut client = t.client.clone();
        async move { client.put_file(request).await.unwrap_err() }
    };
    let program = refused("setup.exe", b"MZ\x90\0".to_vec()).await;
    assert_eq!(program.code(), tonic::Code::InvalidArgument);
    assert!(
        program.message().contains("not a kind of file taken"),
        "{}",
        program.message()
    );
    let fake = refused("cat.png", b"<script>alert(1)</script>".to_vec()).await;
    assert!(
        fake.message().contains("not an image"),
        "{}",
        fake.message()
    );
    let mut cut = Vec::new();
    DynamicImage::ImageRgb8(RgbImage::new(300, 300))
        .write_to(&mut Cursor::new(&mut cut), ImageFormat::Png)
        .unwrap();
    cut.truncate(cut.len() / 2);
    let damaged = refused("cut.png", cut).await;
    assert!(
        damaged.message().contains("damaged"),
        "{}",
        damaged.message()
    );
    assert!(
        refused("empty.pdf", Vec::new())
            .await
            .message()
            .contains("empty")
    );
    assert!(
        refused("", b"%PDF".to_vec())
            .await
            .message()
            .contains("name")
    );
    let mut big_client = t.client.clone().max_encoding_message_size(32 * 1024 * 1024);
    let huge = big_client
        .put_file(visitor_file(
            account_id,
            contact_id,
            "big.pdf",
            vec![b'x'; 20 * 1024 * 1024 + 1],
        ))
        .await
        .unwrap_err();
    assert!(huge.message().contains("20 MiB"), "{}", huge.message());
    // A document is kept as sent, and its folders are not its name.
    let pdf = t
        .client
        .clone()
        .put_file(visitor_file(
            account_id,
            contact_id,
            "C:\\docs\\Счёт.pdf",
            b"%PDF-1.7 ...".to_vec(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (pdf.name.as_str(), pdf.content_type.as_str()),
        ("Счёт.pdf", "application/pdf")
    );
    assert_eq!(
        t.count("dialog.file").await,
        1,
        "only the document was kept"
    );
    let no_thumbnail = get(&t, account_id, &pdf.id, None, true).await.unwrap_err();
    assert_eq!(no_thumbnail.code(), tonic::Code::NotFound);
    t.stop().await;
}

#[tokio::test]
async fn a_file_stays_within_its_dialog_and_its_account() {
    let t = TestDialog::start().await;
    let (account_id, other_account) = (Uuid::now_v7(), Uuid::now_v7());
    let (anna, boris) = (Uuid::now_v7(), Uuid::now_v7());
    let annas = t
        .client
        .clone()
        .put_file(visitor_file(
            account_id,
            anna,
            "order.pdf",
            b"%PDF".to_vec(),
        ))
        .await
        .unwrap()
        .into_inner();
    // Boris (another visitor of the shop) cannot fetch it nor send it.
    let fetched = get(&t, account_id, &annas.id, Some(boris), false)
        .await
        .unwrap_err();
    assert_eq!(fetched.code(), tonic::Code::NotFound);
    let sent = post_files(&t, account_id, boris, "b1", vec![annas.id.clone()])
        .await
        .unwrap_err();
    assert_eq!(sent.code(), tonic::Code::NotFound);
    // Another account's managers do not find it.
    let other = get(&t, other_account, &annas.id, None, false)
        .await
        .unwrap_err();
    assert_eq!(other.code(), tonic::Code::NotFound);
    // A manager of another account cannot attach it into their own dialog.
    let theirs = t
        .visitor_says(other_account, boris, "o1", "hello")
        .await
        .unwrap();
    let dialog_id = theirs.message.unwrap().dialog_id;
    let request = pb::PostMessageRequest {
        account_id: other_account.to_string(),
        dialog_id: dialog_id.clone(),
        author_kind: pb::AuthorKind::Manager as i32,
        author_id: Uuid::now_v7().to_string(),
        client_message_id: "m1".into(),
        attachment_ids: vec![annas.id.clone()],
        ..Default::default()
    };
    let crossed = t.client.clone().post_message(request).await.unwrap_err();
    assert_eq!(crossed.code(), tonic::Code::NotFound);
    // Nothing of it was stored, and Anna's own message carries it.
    let listed = t
        .messages(other_account, &dialog_id, 0, 0, 10)
        .await
        .unwrap();
    assert_eq!(listed.messages.len(), 1);
    post_files(&t, account_id, anna, "a1", vec![annas.id.clone()])
        .await
        .expect("into her own dialog");
    let own = get(&t, account_id, &annas.id, Some(anna), false)
        .await
        .unwrap();
    assert_eq!(own.data, b"%PDF");
    t.stop().await;
}

#[tokio::test]
async fn a_file_sent_again_under_its_key_is_the_one_kept() {
    let t = TestDialog::start().await;
    let (account_id, contact_id) = (Uuid::now_v7(), Uuid::now_v7());
    let keyed = |name: &str| pb::PutFileRequest {
        client_file_id: "telegram:5:77:0".into(),
        ..visitor_file(account_id, contact_id, name, photo(20, 20))
    };
    let first = t
        .client
        .clone()
        .put_file(keyed("a.jpg"))
        .await
        .unwrap()
        .into_inner();
    let again = t
        .client
        .clone()
        .put_file(keyed("a.jpg"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    assert_eq!(t.count("dialog.file").await, 1);
    assert_eq!(
        t.count("dialog.file_blob").await,
        2,
        "the image and its thumbnail"
    );
    // The same key for another dialog is a mistake, not a way in.
    let elsewhere = pb::PutFileRequest {
        contact_id: Uuid::now_v7().to_string(),
        ..keyed("a.jpg")
    };
    let refused = t.client.clone().put_file(elsewhere).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    t.stop().await;
}

#[tokio::test]
async fn files_go_out_only_through_the_site_chat_for_now() {
    let t = TestDialog::start().await;
    let (account_id, contact_id) = (Uuid::now_v7(), Uuid::now_v7());
    let wrote = t
        .contact_writes_from(pb::Channel::Telegram, account_id, contact_id, "t1", "hi")
        .await
        .unwrap();
    let dialog_id = wrote.message.unwrap().dialog_id;
    let manager_id = Uuid::now_v7();
    let file = t
        .client
        .clone()
        .put_file(pb::PutFileRequest {
            account_id: account_id.to_string(),
            dialog_id: dialog_id.clone(),
            uploader_kind: pb::AuthorKind::Manager as i32,
            uploader_id: manager_id.to_string(),
            name: "price.pdf".into(),
            data: b"%PDF".to_vec(),
            ..Default::default()
        })
        .await
        .expect("kept for the dialog")
        .into_inner();
    let reply = |channel: pb::Channel| pb::PostMessageRequest {
        account_id: account_id.to_string(),
        dialog_id: dialog_id.clone(),
        author_kind: pb::AuthorKind::Manager as i32,
        author_id: manager_id.to_string(),
        client_message_id: format!("m{}", channel as i32),
        channel: channel as i32,
        attachment_ids: vec![file.id.clone()],
        ..Default::default()
    };
    // Where replies go by default (Telegram): refused, nothing stored.
    let refused = t
        .client
        .clone()
        .post_message(reply(pb::Channel::Unspecified))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("through telegram"),
        "{}",
        refused.message()
    );
    assert_eq!(
        t.messages(account_id, &dialog_id, 0, 0, 10)
            .await
            .unwrap()
            .messages
            .len(),
        1
    );
    t.stop().await;
}
