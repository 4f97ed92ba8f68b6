//! The offline assistant's photo: an upload is taken only if it decodes as
//! a PNG, JPEG or WebP image of sensible size (whatever it is called), and
//! is stored under a name made of its SHA-256, so each photo has its own URL
//! and can be cached for ever. Only the header is read in the request's
//! checks; the whole image is decoded on the blocking pool within a memory
//! budget ([`Decoding`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chat_platform::budget::MemoryBudget;
use image::{ImageFormat, ImageReader, Limits};
use sha2::{Digest as _, Sha256};
use std::io::Cursor;

/// The largest photo, in bytes, and the most pixels on a side.
pub const MAX_BYTES: usize = 1024 * 1024;
pub const MAX_SIDE_PIXELS: u32 = 4096;

/// The most memory decoding one photo may take (a 4096 x 4096 RGBA image is 64 MiB).
const MAX_DECODE_BYTES: u64 = 128 * 1024 * 1024;
/// The most memory all photo decodes of a replica take at once, in MiB.
pub const DECODE_BUDGET_MIB: u32 = 256;

/// A photo that passed the cheap checks (base64, size, type, dimensions),
/// ready for [`Decoding::verify`] and then to store.
#[derive(Debug, Clone)]
pub struct Photo {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    width: u32,
    height: u32,
}

/// Checks an uploaded photo (base64 of its bytes) as far as its header
/// tells; the problem otherwise. Decoding it whole is [`Decoding::verify`].
pub fn check(base64: &str) -> Result<Photo, String> {
    let bytes = STANDARD
        .decode(base64.trim())
        .map_err(|_| "is not base64".to_owned())?;
    if bytes.len() > MAX_BYTES {
        return Err(format!("is larger than {} KiB", MAX_BYTES / 1024));
    }
    let reader = reader(&bytes)?;
    let (content_type, extension) = match reader.format() {
        Some(ImageFormat::Png) => ("image/png", "png"),
        Some(ImageFormat::Jpeg) => ("image/jpeg", "jpg"),
        Some(ImageFormat::WebP) => ("image/webp", "webp"),
        _ => return Err("is not a PNG, JPEG or WebP image".into()),
    };
    let (width, height) = reader
        .into_dimensions()
        .map_err(|_| "is not a readable image (damaged or cut short)".to_owned())?;
    if width > MAX_SIDE_PIXELS || height > MAX_SIDE_PIXELS {
        return Err(format!("is larger than {MAX_SIDE_PIXELS} pixels on a side"));
    }
    let digest = hex::encode(&Sha256::digest(&bytes)[..12]);
    Ok(Photo {
        name: format!("{digest}.{extension}"),
        content_type,
        bytes,
        width,
        height,
    })
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, String> {
    ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| "is not an image".to_owned())
}

/// Decodes photos whole, off the async workers, within the replica's
/// memory budget for it ([`MemoryBudget`]).
#[derive(Clone)]
pub struct Decoding {
    budget: MemoryBudget,
}

impl Decoding {
    pub fn new(budget_mib: u32) -> Self {
        Self {
            budget: MemoryBudget::new(budget_mib),
        }
    }

    /// Decoding the whole image, not only its header, catches truncated and
    /// corrupt files that a browser would show broken; the problem otherwise.
    pub async fn verify(&self, photo: &Photo) -> Result<(), String> {
        // Its RGBA pixels.
        let pixels = u64::from(photo.width) * u64::from(photo.height) * 4;
        let bytes = photo.bytes.clone();
        self.budget
            .run(pixels, move || decode(&bytes))
            .await
            .map_err(|_| "cannot be checked now".to_owned())?
    }
}

fn decode(bytes: &[u8]) -> Result<(), String> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PIXELS);
    limits.max_image_height = Some(MAX_SIDE_PIXELS);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = reader(bytes)?;
    reader.limits(limits);
    reader.decode().map(drop).map_err(|e| match e {
        image::ImageError::Limits(_) => {
            format!("is larger than {MAX_SIDE_PIXELS} pixels on a side")
        }
        _ => "is not a readable image (damaged or cut short)".to_owned(),
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
        let big = vec![0u8; MAX_BYTES + 1];
        assert!(check(&STANDARD.encode(big)).unwrap_err().contains("KiB"));
    }

    #[tokio::test]
    async fn a_damaged_image_is_found_when_decoded_whole() {
        let mut cut = png(64, 64);
        cut.truncate(cut.len() / 2);
        let photo = check(&STANDARD.encode(cut)).expect("its header is whole");
        let problem = Decoding::new(DECODE_BUDGET_MIB).verify(&photo).await;
        assert!(problem.unwrap_err().contains("damaged"));
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
