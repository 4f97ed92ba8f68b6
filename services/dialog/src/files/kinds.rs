//! Which files a message may carry: an image is found by its bytes,
//! whatever its name says; any other file by its name's extension, from
//! the kinds people send a shop (documents, tables, archives, audio, video).
//! Nothing a computer would run (programs, scripts, web pages) is taken.

use image::ImageFormat;

/// What a file is.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    /// An image its bytes say it is, to check and write again.
    Image(ImageFormat),
    /// Any other file, kept as sent; its type from its name.
    Document { content_type: &'static str },
}

/// The extensions taken besides images, and the type each says.
const DOCUMENTS: [(&str, &str); 27] = [
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("rtf", "application/rtf"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("odp", "application/vnd.oasis.opendocument.presentation"),
    ("zip", "application/zip"),
    ("rar", "application/vnd.rar"),
    ("7z", "application/x-7z-compressed"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/ogg"),
    ("m4a", "audio/mp4"),
    ("wav", "audio/wav"),
    ("mp4", "video/mp4"),
    ("mov", "video/quicktime"),
    ("webm", "video/webm"),
    // What an iPhone takes photos in: kept, not shown (browsers cannot).
    ("heic", "image/heic"),
    ("heif", "image/heif"),
];

/// Extensions of the images shown, which a file must be one of to be named so.
const IMAGE_EXTENSIONS: [&str; 5] = ["jpg", "jpeg", "png", "gif", "webp"];

/// What `bytes`, sent as `name`, are; the problem when they are not taken.
pub fn classify(name: &str, bytes: &[u8]) -> Result<Kind, String> {
    let format = image::guess_format(bytes).ok();
    if let Some(
        format @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP),
    ) = format
    {
        return Ok(Kind::Image(format));
    }
    let extension = extension(name);
    if IMAGE_EXTENSIONS.contains(&extension.as_str()) {
        return Err("is not an image, whatever its name says".into());
    }
    DOCUMENTS
        .iter()
        .find(|(known, _)| *known == extension)
        .map(|(_, content_type)| Kind::Document { content_type })
        .ok_or_else(|| {
            "is not a kind of file taken: images (JPEG, PNG, GIF, WebP), documents, \
             tables, presentations, archives, audio and video"
                .into()
        })
}

/// The name's extension, in lower case; empty without one.
pub fn extension(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => extension.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// `name` with its extension made `extension` (an image written again in
/// another format, or named as something else).
pub fn renamed(name: &str, extension: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    format!("{stem}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_is_what_its_bytes_say_whatever_its_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(classify("scan.pdf", png), Ok(Kind::Image(ImageFormat::Png)));
        assert_eq!(
            classify("photo.JPG", b"not a jpeg at all").unwrap_err(),
            "is not an image, whatever its name says"
        );
    }

    #[test]
    fn documents_are_taken_by_extension_and_programs_are_not() {
        assert_eq!(
            classify("Счёт №5.PDF", b"%PDF-1.7"),
            Ok(Kind::Document {
                content_type: "application/pdf"
            })
        );
        for name in [
            "setup.exe",
            "page.html",
            "run.sh",
            "image.svg",
            "README",
            ".pdf",
        ] {
            assert!(
                classify(name, b"x").unwrap_err().contains("not a kind"),
                "{name}"
            );
        }
    }

    #[test]
    fn a_renamed_file_keeps_its_stem() {
        assert_eq!(renamed("holiday.webp", "jpg"), "holiday.jpg");
        assert_eq!(renamed("scan", "png"), "scan.png");
        assert_eq!(renamed(".hidden", "png"), ".hidden.png");
    }
}
