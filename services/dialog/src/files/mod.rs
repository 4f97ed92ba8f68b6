//! Files that messages carry: kept for a dialog (PutFile), attached to a
//! message by id, and given back only to who may read the dialog
//! (GetFile). An image is checked and written again ([`images`]), anything
//! else taken only when its kind is one people send a shop ([`kinds`]); the
//! SQL is [`store`].
//!
//! A file belongs to the contact's dialog it was kept for, so a message may
//! carry only files of its own dialog, and a visitor may fetch only those.

pub mod images;
pub mod kinds;
pub mod store;

use chat_platform::budget::MemoryBudget;
use chat_platform::files::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_NAME_CHARS};
use chat_proto::dialog::v1 as pb;
use image::ImageFormat;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::Target;
use crate::error::{Error, Result, parse_id};
use crate::messages::Post;
use kinds::Kind;
use store::{FileRow, NewFile};

/// Longest uploader's key for a file, in characters.
pub const MAX_CLIENT_FILE_ID_CHARS: usize = 200;
/// The memory all image decodes of a replica take at once, in MiB.
pub const DECODE_BUDGET_MIB: u32 = 1024;

/// A file as a message carries it (kept in the message's `attachments`):
/// what it was when the message was sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
}

impl From<FileRow> for Attachment {
    fn from(file: FileRow) -> Self {
        Self {
            id: file.id,
            name: file.name,
            content_type: file.content_type,
            size: file.size,
            width: file.width,
            height: file.height,
        }
    }
}

impl From<Attachment> for pb::Attachment {
    fn from(a: Attachment) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name,
            content_type: a.content_type,
            size: a.size,
            width: a.width.unwrap_or_default() as u32,
            height: a.height.unwrap_or_default() as u32,
        }
    }
}

/// Keeping and giving back files; cheap to clone.
#[derive(Clone)]
pub struct Files {
    pool: PgPool,
    decoding: MemoryBudget,
}

impl Files {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            decoding: MemoryBudget::new(DECODE_BUDGET_MIB),
        }
    }

    /// Keeps a file for a dialog; a repeat of the uploader's key returns
    /// the file kept the first time.
    pub async fn put(&self, req: pb::PutFileRequest) -> Result<pb::Attachment> {
        let account_id = parse_id("account_id", &req.account_id)?;
        let uploader = pb::AuthorKind::try_from(req.uploader_kind).unwrap_or_default();
        let uploader_kind = uploader
            .word()
            .ok_or_else(|| Error::InvalidArgument("uploader_kind is required".into()))?;
        let uploader_id = match req.uploader_id.as_str() {
            "" => None,
            id => Some(parse_id("uploader_id", id)?),
        };
        let name = checked_name(&req.name)?;
        if req.data.is_empty() {
            return Err(Error::field("data", "is empty"));
        }
        if req.data.len() > MAX_ATTACHMENT_BYTES {
            return Err(Error::field(
                "data",
                format!(
                    "is larger than {} MiB",
                    MAX_ATTACHMENT_BYTES / (1024 * 1024)
                ),
            ));
        }
        let client_file_id = match req.client_file_id.as_str() {
            "" => None,
            key if key.chars().count() > MAX_CLIENT_FILE_ID_CHARS || key.contains('\0') => {
                return Err(Error::InvalidArgument(format!(
                    "client_file_id must be up to {MAX_CLIENT_FILE_ID_CHARS} characters, without NUL"
                )));
            }
            key => Some(key),
        };
        let contact_id = match (req.dialog_id.as_str(), req.contact_id.as_str()) {
            ("", "") => {
                return Err(Error::InvalidArgument(
                    "dialog_id or contact_id is required".into(),
                ));
            }
            ("", contact_id) => parse_id("contact_id", contact_id)?,
            (dialog_id, _) => {
                let dialog_id = parse_id("dialog_id", dialog_id)?;
                store::dialog_contact(&self.pool, account_id, dialog_id)
                    .await?
                    .ok_or(Error::NotFound("dialog"))?
                    .0
            }
        };
        if let Some(kept) = self.kept(account_id, contact_id, client_file_id).await? {
            return Ok(kept);
        }
        let (name, content_type, width, height, bytes, thumbnail) =
            match kinds::classify(&name, &req.data).map_err(|p| Error::field("data", p))? {
                Kind::Document { content_type } => (name, content_type, None, None, req.data, None),
                Kind::Image(format) => {
                    let cost =
                        images::decode_cost(&req.data).map_err(|p| Error::field("data", p))?;
                    let data = req.data;
                    let written = self
                        .decoding
                        .run(cost, move || images::write_again(&data, format))
                        .await
                        .map_err(|_| Error::Unavailable)?
                        .map_err(|p| Error::field("data", p))?;
                    let format = ImageFormat::from_extension(written.extension).unwrap_or(format);
                    let name = match named_as(&name, format) {
                        true => name,
                        false => kinds::renamed(&name, written.extension),
                    };
                    (
                        name,
                        written.content_type,
                        Some(written.width as i32),
                        Some(written.height as i32),
                        written.bytes,
                        Some(written.thumbnail),
                    )
                }
            };
        let new = NewFile {
            account_id,
            contact_id,
            uploader_kind,
            uploader_id,
            client_file_id,
            name: &name,
            content_type,
            width,
            height,
            bytes: &bytes,
            thumbnail: thumbnail.as_deref(),
        };
        if let Some(file) = store::insert(&self.pool, &new).await? {
            metrics::counter!("dialog_files_kept_total", "uploader" => uploader_kind).increment(1);
            return Ok(Attachment::from(file).into());
        }
        // Another upload with the same key was kept meanwhile.
        self.kept(account_id, contact_id, client_file_id)
            .await?
            .ok_or(Error::NotFound("file"))
    }

    /// The file kept before under the uploader's key, when there is one.
    async fn kept(
        &self,
        account_id: Uuid,
        contact_id: Uuid,
        client_file_id: Option<&str>,
    ) -> Result<Option<pb::Attachment>> {
        let Some(key) = client_file_id else {
            return Ok(None);
        };
        match store::find_by_client_id(&self.pool, account_id, key).await? {
            Some(file) if file.contact_id != contact_id => Err(Error::InvalidArgument(
                "client_file_id names a file of another dialog".into(),
            )),
            found => Ok(found.map(|file| Attachment::from(file).into())),
        }
    }

    /// A file's bytes (or its thumbnail's), for a manager of its account or
    /// the visitor whose dialog it is in.
    pub async fn get(&self, req: &pb::GetFileRequest) -> Result<pb::GetFileResponse> {
        let account_id = parse_id("account_id", &req.account_id)?;
        let file_id = Uuid::parse_str(&req.file_id).map_err(|_| Error::NotFound("file"))?;
        let contact_id = match req.contact_id.as_str() {
            "" => None,
            id => Some(parse_id("contact_id", id)?),
        };
        let part = if req.thumbnail {
            "thumbnail"
        } else {
            "original"
        };
        let (file, data) = store::bytes(&self.pool, account_id, file_id, contact_id, part)
            .await?
            .ok_or(Error::NotFound("file"))?;
        let content_type = match (req.thumbnail, image::guess_format(&data)) {
            (true, Ok(ImageFormat::Png)) => "image/png".to_owned(),
            (true, _) => "image/jpeg".to_owned(),
            (false, _) => file.content_type.clone(),
        };
        Ok(pb::GetFileResponse {
            file: Some(Attachment::from(file).into()),
            content_type,
            data,
        })
    }
}

/// The files a post names, in its order, each one kept for the dialog it
/// goes into; a file of another dialog or account is not found. Files go
/// out only through the site chat for now: a manager's post with files
/// into a dialog whose replies go through a messenger or by e-mail is
/// refused, nothing stored.
pub async fn for_post(pool: &PgPool, post: &Post) -> Result<Vec<Attachment>> {
    let (account_id, ids) = (post.account_id(), post.attachment_ids());
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let contact_id = match post.target() {
        Target::DialogOf { contact_id }
        | Target::Dialog {
            visitor: Some(contact_id),
            ..
        } => contact_id,
        Target::Dialog {
            dialog_id,
            visitor: None,
        } => {
            let (contact_id, replies_go) = store::dialog_contact(pool, account_id, dialog_id)
                .await?
                .ok_or(Error::NotFound("dialog"))?;
            let channel = post.channel().unwrap_or(&replies_go);
            if post.author_kind() == "manager" && channel != "site" {
                return Err(Error::field(
                    "attachments",
                    format!("cannot go out through {channel} yet: files go through the site chat"),
                ));
            }
            contact_id
        }
    };
    let files = store::files(pool, account_id, ids).await?;
    ids.iter()
        .map(|id| {
            files
                .iter()
                .find(|file| file.id == *id && file.contact_id == contact_id)
                .cloned()
                .map(Attachment::from)
                .ok_or(Error::NotFound("file"))
        })
        .collect()
}

/// The files a request names, checked: ids, none twice, at most
/// [`MAX_ATTACHMENTS`].
pub fn checked_ids(ids: &[String]) -> Result<Vec<Uuid>> {
    if ids.len() > MAX_ATTACHMENTS {
        return Err(Error::field(
            "attachment_ids",
            format!("names more than {MAX_ATTACHMENTS} files"),
        ));
    }
    let mut checked = Vec::with_capacity(ids.len());
    for id in ids {
        let id = parse_id("attachment_ids", id)?;
        if checked.contains(&id) {
            return Err(Error::field("attachment_ids", "names a file twice"));
        }
        checked.push(id);
    }
    Ok(checked)
}

/// A name as sent, without any folders before it and trimmed; the problem
/// when nothing or too much is left.
fn checked_name(name: &str) -> Result<String> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        return Err(Error::field("name", "is empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::field(
            "name",
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::field("name", "contains a control character"));
    }
    Ok(name.to_owned())
}

/// Whether `name` already says it is an image of `format`.
fn named_as(name: &str, format: ImageFormat) -> bool {
    format
        .extensions_str()
        .contains(&kinds::extension(name).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_loses_its_folders_and_nothing_else() {
        assert_eq!(
            checked_name("C:\\Users\\anna\\счёт.pdf").unwrap(),
            "счёт.pdf"
        );
        assert_eq!(checked_name("../../etc/passwd").unwrap(), "passwd");
        assert!(checked_name(" / ").is_err());
        assert!(checked_name("..").is_err());
        assert!(checked_name("a\u{7}.pdf").is_err());
        assert!(checked_name(&"я".repeat(256)).is_err());
    }

    #[test]
    fn a_post_names_each_file_once_and_at_most_ten() {
        let id = Uuid::now_v7().to_string();
        assert!(checked_ids(&[id.clone(), id.clone()]).is_err());
        let many: Vec<String> = (0..11).map(|_| Uuid::now_v7().to_string()).collect();
        assert!(checked_ids(&many).is_err());
        assert!(checked_ids(&["x".into()]).is_err());
        assert_eq!(checked_ids(&[id]).unwrap().len(), 1);
    }

    #[test]
    fn an_image_keeps_its_name_when_it_says_what_it_is() {
        assert!(named_as("photo.JPEG", ImageFormat::Jpeg));
        assert!(named_as("photo.jpg", ImageFormat::Jpeg));
        assert!(!named_as("photo.pdf", ImageFormat::Jpeg));
    }
}
