//! The offline assistant's photo: an upload is taken only if it decodes as
//! a PNG, JPEG or WebP image of sensible size (whatever it is called), and
//! is stored under a name made of its SHA-256, so each photo has its own URL
//! and can be cached for ever.

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use image::{ImageFormat, ImageReader, Limits};
use sha2::{Digest as _, Sha256};

/// The largest photo, in bytes, and the most pixels on a side.
pub const MAX_BYTES: usize = 1024 * 1024;
pub const MAX_SIDE_PIXELS: u32 = 4096;

/// The most memory decoding one photo may take (a 4096 x 4096 RGBA image is 64 MiB).
const MAX_DECODE_BYTES: u64 = 128 * 1024 * 1024;

/// A checked photo, ready to store.
#[derive(Debug, Clone)]
pub struct Photo {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Checks an uploaded photo (base64 of its bytes); the problem otherwise.
pub fn check(base64: &str) -> Result<Photo, String> {
    let bytes = STANDARD
        .decode(base64.trim())
        .map_err(|_| "is not base64".to_owned())?;
    if bytes.len() > MAX_BYTES {
        return Err(format!("is larger than {} KiB", MAX_BYTES / 1024));
    }
    let reader = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|_| "is not an image".to_owned())?;
    let (content_type, extension) = match reader.format() {
        Some(ImageFormat::Png) => ("image/png", "png"),
        Some(ImageFormat::Jpeg) => ("image/jpeg", "jpg"),
        Some(ImageFormat::WebP) => ("image/webp", "webp"),
        _ => return Err("is not a PNG, JPEG or WebP image".into()),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PIXELS);
    limits.max_image_height = Some(MAX_SIDE_PIXELS);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = reader;
    reader.limits(limits);
    // Decoding the whole image, not only its header, catches truncated and
    // corrupt files that a browser would show broken.
    reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            format!("is larger than {MAX_SIDE_PIXELS} pixels on a side")
        }
        _ => "is not a readable image (damaged or cut short)".to_owned(),
    })?;
    let digest = hex::encode(&Sha256::digest(&bytes)[..12]);
    Ok(Photo {
        name: format!("{digest}.{extension}"),
        content_type,
        bytes,
    })
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A small PNG, made here rather than kept as a file.
    pub fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_pixel(width, height, image::Rgb([31, 111, 235]));
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .expect("PNG encodes");
        bytes
    }

    #[test]
    fn a_png_is_taken_and_named_by_its_content() {
        let bytes = png(8, 8);
        let photo = check(&STANDARD.encode(&bytes)).expect("a PNG");
        assert_eq!(photo.content_type, "image/png");
        assert!(photo.name.ends_with(".png"));
        assert_eq!(photo.bytes, bytes);
        let other = check(&STANDARD.encode(png(9, 8))).unwrap();
        assert_ne!(photo.name, other.name);
    }

    #[test]
    fn what_is_no_image_is_refused() {
        let text = STANDARD.encode(b"GIF89a? no, just text pretending to be a .png");
        assert!(check(&text).unwrap_err().contains("not"));
        assert_eq!(check("***").unwrap_err(), "is not base64");
        let mut cut = png(64, 64);
        cut.truncate(cut.len() / 2);
        assert!(
            check(&STANDARD.encode(cut))
                .unwrap_err()
                .contains("damaged")
        );
        let big = vec![0u8; MAX_BYTES + 1];
        assert!(check(&STANDARD.encode(big)).unwrap_err().contains("KiB"));
    }

    #[test]
    fn a_gif_is_not_taken() {
        let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
        assert!(
            check(&STANDARD.encode(gif))
                .unwrap_err()
                .contains("PNG, JPEG or WebP")
        );
    }
}
