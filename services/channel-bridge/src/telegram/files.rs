//! Files people send the shop's bot (photos, documents, voice and video),
//! fetched for the console: `getFile` gives the file's path on Telegram's
//! file server, whose address holds the bot's token, so the bridge streams
//! the bytes itself and the token never leaves it. Messages link to them as
//! [`link`], a path of the gateway's API.

use futures::StreamExt as _;
use futures::stream::BoxStream;
use teloxide_core::net::Download as _;
use teloxide_core::prelude::*;
use teloxide_core::types::FileId;
use teloxide_core::{ApiError, RequestError};

use super::api::TelegramApi;

/// Where the console opens a file, by the gateway (`GET /api/v1/files/...`),
/// with the name the person gave it where it has one: Telegram's file
/// server knows it only as `file_5.pdf`, so the link carries it.
pub fn link(file_id: &str, name: Option<&str>) -> String {
    chat_platform::files::link("telegram", file_id, name)
}

/// A file on its way: what it is, then its bytes.
pub struct Fetched {
    /// From the file's extension on Telegram's server (`photos/file_3.jpg`).
    pub content_type: &'static str,
    /// The last part of its path there.
    pub file_name: String,
    pub size: u64,
    pub bytes: BoxStream<'static, Result<Vec<u8>, reqwest::Error>>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not a file this bot was sent (or Telegram forgot it).
    #[error("no such file")]
    NotFound,
    /// Over the 20 MB a bot may download.
    #[error("the file is bigger than Telegram lets bots download (20 MB)")]
    TooBig,
    /// Telegram no longer knows the bot's token: nothing comes until the
    /// shop connects the bot anew.
    #[error("Telegram no longer knows this bot token: connect the bot anew")]
    TokenRevoked,
    /// Telegram could not be asked, or its file server did not answer.
    #[error("{0}")]
    Unavailable(String),
}

/// Asks Telegram where the file is, and starts downloading it.
pub async fn fetch(api: &TelegramApi, token: &str, file_id: &str) -> Result<Fetched, FetchError> {
    let bot = api.bot(token);
    let file = bot
        .get_file(FileId(file_id.to_owned()))
        .await
        .map_err(|e| match e {
            RequestError::Api(ApiError::Unknown(description))
                if description.contains("too big") =>
            {
                FetchError::TooBig
            }
            RequestError::Api(ApiError::InvalidToken) => FetchError::TokenRevoked,
            // Any other refusal names the file: invalid, wrong, gone.
            RequestError::Api(_) => FetchError::NotFound,
            other => FetchError::Unavailable(other.to_string()),
        })?;
    let file_name = file.path.rsplit('/').next().unwrap_or_default().to_owned();
    let mut bytes = api
        .downloader(token)
        .download_file_stream(&file.path)
        .map(|chunk| chunk.map(|bytes| bytes.to_vec()));
    // The file server's answer is awaited here, so a refusal is an error
    // of the call rather than a download that stops short.
    let first = match bytes.next().await {
        Some(Ok(first)) => first,
        Some(Err(e)) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
            return Err(FetchError::NotFound);
        }
        Some(Err(e)) => {
            return Err(FetchError::Unavailable(crate::http_errors::described(e)));
        }
        None => Vec::new(),
    };
    Ok(Fetched {
        content_type: content_type(&file_name),
        size: u64::from(file.meta.size),
        bytes: futures::stream::once(async { Ok(first) })
            .chain(bytes)
            .boxed(),
        file_name,
    })
}

/// The type a file's extension says it is; only images are named as such
/// (the gateway shows those), anything else is bytes to download.
fn content_type(file_name: &str) -> &'static str {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_raster_images_are_named_by_type() {
        assert_eq!(content_type("file_3.jpg"), "image/jpeg");
        assert_eq!(content_type("file_3.JPEG"), "image/jpeg");
        assert_eq!(content_type("file_4.webp"), "image/webp");
        assert_eq!(content_type("file_5.svg"), "application/octet-stream");
        assert_eq!(content_type("file_6.html"), "application/octet-stream");
        assert_eq!(content_type("file_7"), "application/octet-stream");
    }

    #[test]
    fn a_link_is_the_gateways_path_for_the_file_with_its_name_if_it_has_one() {
        assert_eq!(link("AgAD-x_1", None), "/api/v1/files/telegram/AgAD-x_1");
        assert_eq!(
            link("AgAD-x_1", Some("  ")),
            "/api/v1/files/telegram/AgAD-x_1"
        );
        assert_eq!(
            link("AgAD-x_1", Some("счёт №5.pdf")),
            "/api/v1/files/telegram/AgAD-x_1?name=%D1%81%D1%87%D1%91%D1%82%20%E2%84%965.pdf"
        );
        let long = link("f", Some(&"я".repeat(300)));
        assert_eq!(
            long.matches("%D1%8F").count(),
            255,
            "as long as the gateway takes"
        );
    }
}
