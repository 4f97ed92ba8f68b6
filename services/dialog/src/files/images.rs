//! An image a person sends is decoded whole and written again, so what is
//! stored is only pixels: turned upright as the camera meant, without what
//! the camera put beside them (where it was taken, the phone's serial), and
//! without anything else hidden in the file. A JPEG stays a JPEG and a PNG
//! a PNG; a WebP becomes a JPEG, or a PNG when it has transparency. A GIF
//! is checked frame by frame and kept as sent, so it still moves. Each gets
//! a thumbnail for the message list.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder as _, ImageFormat, ImageReader, Limits};

/// The most pixels on a side (a 200-megapixel phone photo is 16,320 wide).
pub const MAX_SIDE_PIXELS: u32 = 16_384;
/// The most memory one decode may take.
pub const MAX_DECODE_BYTES: u64 = 1024 * 1024 * 1024;
/// The most pixels of all an animation's frames together.
pub const MAX_ANIMATION_PIXELS: u64 = 200_000_000;
/// A thumbnail fits in this square (twice what the message list shows, for
/// sharp screens).
const THUMBNAIL_SIDE: u32 = 480;
/// JPEG quality of what is written again.
const JPEG_QUALITY: u8 = 85;

/// An image as it is stored.
#[derive(Debug)]
pub struct Written {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    /// The extension its name gets.
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
    /// A small JPEG or PNG of it.
    pub thumbnail: Vec<u8>,
}

/// The memory writing `bytes` again may take, for the budget: its pixels
/// as the header tells (RGBA), twice (turning it upright, or making it RGB
/// for JPEG, copies them); the problem when the header cannot be read.
pub fn decode_cost(bytes: &[u8]) -> Result<u64, String> {
    let (width, height) = reader(bytes)?.into_dimensions().map_err(problem)?;
    if width > MAX_SIDE_PIXELS || height > MAX_SIDE_PIXELS {
        return Err(too_large());
    }
    Ok(u64::from(width) * u64::from(height) * 4 * 2)
}

/// Decodes `bytes` (an image of `format`) whole and writes it again.
pub fn write_again(bytes: &[u8], format: ImageFormat) -> Result<Written, String> {
    let mut decoder = reader(bytes)?
        .into_decoder()
        .map_err(|_| DAMAGED.to_owned())?;
    decoder.set_limits(limits()).map_err(|_| too_large())?;
    let orientation = decoder.orientation().map_err(|_| DAMAGED.to_owned())?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(problem)?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    let thumbnail = thumbnail(&image)?;
    let (bytes, content_type, extension) = match format {
        ImageFormat::Gif => {
            every_frame_decodes(bytes, MAX_ANIMATION_PIXELS)?;
            (bytes.to_vec(), "image/gif", "gif")
        }
        ImageFormat::Png => (encode_png(&image)?, "image/png", "png"),
        _ if image.color().has_alpha() => (encode_png(&image)?, "image/png", "png"),
        _ => (encode_jpeg(&image)?, "image/jpeg", "jpg"),
    };
    Ok(Written {
        bytes,
        content_type,
        extension,
        width,
        height,
        thumbnail,
    })
}

const DAMAGED: &str = "is not a readable image (damaged or cut short)";

fn too_large() -> String {
    format!("is larger than {MAX_SIDE_PIXELS} pixels on a side")
}

fn problem(error: image::ImageError) -> String {
    match error {
        image::ImageError::Limits(_) => too_large(),
        _ => DAMAGED.to_owned(),
    }
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PIXELS);
    limits.max_image_height = Some(MAX_SIDE_PIXELS);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| "is not an image".to_owned())?;
    reader.limits(limits());
    Ok(reader)
}

/// A GIF is kept as sent, so every frame of it must decode, within the
/// same limits, and all of them together within `max_pixels` (a small
/// file may hold thousands of large frames).
fn every_frame_decodes(bytes: &[u8], max_pixels: u64) -> Result<(), String> {
    use image::AnimationDecoder as _;
    let mut decoder = image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(problem)?;
    decoder.set_limits(limits()).map_err(|_| too_large())?;
    let mut pixels = 0u64;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(problem)?;
        let (width, height) = frame.buffer().dimensions();
        pixels += u64::from(width) * u64::from(height);
        if pixels > max_pixels {
            return Err(format!(
                "has more frames than are taken ({} megapixels in all)",
                max_pixels / 1_000_000
            ));
        }
    }
    Ok(())
}

fn thumbnail(image: &DynamicImage) -> Result<Vec<u8>, String> {
    let small = if image.width() > THUMBNAIL_SIDE || image.height() > THUMBNAIL_SIDE {
        image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    } else {
        image.clone()
    };
    if small.color().has_alpha() {
        encode_png(&small)
    } else {
        encode_jpeg(&small)
    }
}

fn encode_png(image: &DynamicImage) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .map_err(|_| "cannot be written again as PNG".to_owned())?;
    Ok(bytes)
}

fn encode_jpeg(image: &DynamicImage) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let encoder = JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY);
    DynamicImage::ImageRgb8(image.to_rgb8())
        .write_with_encoder(encoder)
        .map_err(|_| "cannot be written again as JPEG".to_owned())?;
    Ok(bytes)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// An image of `width` by `height` in `format`, made here.
    pub fn image(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let pixels = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 200])
        });
        let mut bytes = Vec::new();
        DynamicImage::ImageRgb8(pixels)
            .write_to(&mut Cursor::new(&mut bytes), format)
            .expect("encodes");
        bytes
    }

    #[test]
    fn a_photo_is_written_again_with_a_thumbnail() {
        let written =
            write_again(&image(1200, 900, ImageFormat::Jpeg), ImageFormat::Jpeg).expect("a JPEG");
        assert_eq!((written.width, written.height), (1200, 900));
        assert_eq!(written.content_type, "image/jpeg");
        let thumbnail = image::load_from_memory(&written.thumbnail).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (480, 360));
        assert_eq!(
            image::guess_format(&written.bytes).unwrap(),
            ImageFormat::Jpeg
        );
    }

    #[test]
    fn a_webp_becomes_a_jpeg_and_a_small_image_its_own_thumbnail() {
        let written =
            write_again(&image(40, 30, ImageFormat::WebP), ImageFormat::WebP).expect("a WebP");
        assert_eq!(
            (written.content_type, written.extension),
            ("image/jpeg", "jpg")
        );
        let thumbnail = image::load_from_memory(&written.thumbnail).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (40, 30));
    }

    #[test]
    fn what_a_camera_put_beside_the_pixels_is_not_kept() {
        // A JPEG with an EXIF segment (APP1) carrying a made-up location.
        let plain = image(64, 48, ImageFormat::Jpeg);
        let mut with_exif = plain[..2].to_vec();
        let exif = b"Exif\0\0MM\0*\0\0\0\x08\0\0GPS 55.7558 37.6173";
        with_exif.extend_from_slice(&[0xFF, 0xE1]);
        with_exif.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        with_exif.extend_from_slice(exif);
        with_exif.extend_from_slice(&plain[2..]);
        let written = write_again(&with_exif, ImageFormat::Jpeg).expect("still a JPEG");
        let kept = String::from_utf8_lossy(&written.bytes);
        assert!(!kept.contains("GPS 55.7558"), "the location is gone");
        assert_eq!((written.width, written.height), (64, 48));
    }

    #[test]
    fn a_damaged_or_huge_image_is_refused() {
        let mut cut = image(256, 256, ImageFormat::Png);
        cut.truncate(cut.len() / 2);
        assert_eq!(write_again(&cut, ImageFormat::Png).unwrap_err(), DAMAGED);
        // A GIF whose screen claims 20,000 x 20,000 pixels.
        let mut huge = image(1, 1, ImageFormat::Gif);
        huge[6..8].copy_from_slice(&20_000u16.to_le_bytes());
        huge[8..10].copy_from_slice(&20_000u16.to_le_bytes());
        assert!(decode_cost(&huge).unwrap_err().contains("16384 pixels"));
    }

    #[test]
    fn an_animation_of_too_many_frames_is_refused() {
        use image::codecs::gif::GifEncoder;
        // 5 frames of 100 x 100: 50,000 pixels in all.
        let mut gif = Vec::new();
        {
            let mut encoder = GifEncoder::new(&mut gif);
            let blank = image::RgbaImage::new(100, 100);
            for _ in 0..5 {
                encoder
                    .encode_frame(image::Frame::new(blank.clone()))
                    .unwrap();
            }
        }
        assert_eq!(every_frame_decodes(&gif, 50_000), Ok(()));
        let problem = every_frame_decodes(&gif, 49_999).unwrap_err();
        assert!(problem.contains("more frames"), "{problem}");
    }

    #[test]
    fn a_gif_is_kept_as_sent() {
        let gif = image(10, 10, ImageFormat::Gif);
        let written = write_again(&gif, ImageFormat::Gif).expect("a GIF");
        assert_eq!(written.bytes, gif);
        assert_eq!(written.content_type, "image/gif");
    }
}
