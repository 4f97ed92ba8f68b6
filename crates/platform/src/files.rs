//! Files people send: how large a message's files may be, and where the
//! console opens one that stayed with its messenger or e-mail (a path of
//! the gateway's API, `/api/v1/files/<channel>/<file id>`, with `?name=`
//! the name the person gave it where there is one: a platform's file server
//! may know it only as `file_5.pdf`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a name keeps as it is in a link or a `filename*`: URLs' unreserved
/// characters.
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The longest name a link carries, in characters (as file systems allow,
/// and as the gateway takes).
pub const MAX_NAME_CHARS: usize = 255;

/// The file's link; a blank name is left out, a long one cut.
pub fn link(channel: &str, file_id: &str, name: Option<&str>) -> String {
    let path = format!("/api/v1/files/{channel}/{file_id}");
    match name.map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => {
            let name: String = name.chars().take(MAX_NAME_CHARS).collect();
            format!("{path}?name={}", utf8_percent_encode(&name, UNRESERVED))
        }
        None => path,
    }
}

/// The largest file a message may carry, in bytes (as the largest a
/// Telegram bot may download, so a messenger's file fits too).
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;
/// The most files one message carries.
pub const MAX_ATTACHMENTS: usize = 10;
/// The largest gRPC message between the services that pass a file whole:
/// the file and room for what describes it.
pub const MAX_FILE_MESSAGE_BYTES: usize = MAX_ATTACHMENT_BYTES + 1024 * 1024;
