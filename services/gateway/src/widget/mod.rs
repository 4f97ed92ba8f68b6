//! The website widget's side of the gateway: the consultant's settings, the
//! widget's public endpoints, and what its socket relies on.
//!
//! - [`settings`]: the settings and their rules.
//! - [`db`]: their SQL, and the photos'.
//! - [`patterns`]: hidden-page patterns.
//! - [`photo`]: checking the offline assistant's photo.
//! - [`credential`]: the credentials issued to visitors.
//! - [`identity`]: identity verification of e-mails from the shop's pages.
//! - [`public`]: `/widget.js`, the widget's configuration, the photos.
//! - [`attachments`]: files a visitor sends and fetches.
//! - [`live`]: saved settings told to every replica's open widgets.

pub mod attachments;
pub mod credential;
pub mod db;
pub mod identity;
pub mod live;
pub mod patterns;
pub mod photo;
pub mod public;
pub mod script;
pub mod seen;
pub mod settings;

use serde_json::{Value, json};

use settings::Settings;

/// What the widget on the page at `url` needs: `GET /widget/v1/config` and
/// the socket's `settings` frames answer the same.
pub fn config(settings: &Settings, url: &str, managers_online: bool) -> Value {
    if !settings.enabled {
        return json!({ "enabled": false });
    }
    json!({
        "enabled": true,
        "hidden": settings.hiding(url),
        "position": settings.position,
        "color": settings.color,
        "visitor_sound": settings.visitor_sound,
        "online_title": settings.online_title,
        "online_message": settings.online_message,
        "offline_title": settings.offline_title,
        "offline_message": settings.offline_message,
        "offline_photo_url": settings.photo_url(),
        "language": settings.language,
        "language_from_browser": settings.language_from_browser,
        "managers_online": managers_online,
    })
}
