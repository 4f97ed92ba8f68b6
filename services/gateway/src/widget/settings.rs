//! The consultant's settings (Settings, Online consultant): what they are,
//! the rules every field must keep, and their SQL. A save checks every field
//! first and then stores all of them, and the photo, in one transaction.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::patterns::{self, HiddenPages};
use super::photo::{self, Photo};
use crate::error::{Error, Fields};

pub const SOUNDS: [&str; 4] = ["chime", "bell", "pop", "none"];
pub const POSITIONS: [&str; 2] = ["bottom_right", "bottom_left"];
/// The languages the widget speaks (each has its catalogue in
/// `static/widget/i18n`).
pub const LANGUAGES: [&str; 2] = ["en", "ru"];
pub const MAX_TITLE_CHARS: usize = 60;
pub const MAX_MESSAGE_CHARS: usize = 300;
pub const MAX_ORIGINS: usize = 20;
/// An allowed site: a scheme and a host with an optional port, nothing more.
pub const ORIGIN_PATTERN: &str =
    r"^https?://([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$";
pub const COLOR_PATTERN: &str = "^#[0-9a-fA-F]{6}$";

/// The titles and messages a new shop starts with (the defaults of
/// migrations/0003_widget.sql): online title and message, offline title and
/// message.
pub const STARTING_WORDS: [&str; 4] = [
    "We are online",
    "Ask us anything: we usually answer within a few minutes.",
    "Leave us a message",
    "We are away right now. Leave your e-mail and we will write back.",
];

/// The stored settings of one account, with the account's keys.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Settings {
    /// The hidden-page patterns compiled, once per loaded settings.
    #[sqlx(skip)]
    pub compiled_hidden_pages: std::sync::OnceLock<HiddenPages>,
    pub account_id: Uuid,
    pub site_key: String,
    pub visitor_key: Vec<u8>,
    pub identity_secret: String,
    pub enabled: bool,
    pub manager_sound: String,
    pub visitor_sound: String,
    pub position: String,
    pub color: String,
    pub online_title: String,
    pub online_message: String,
    pub offline_title: String,
    pub offline_message: String,
    pub hidden_pages: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub photo_name: Option<String>,
    pub language: String,
    pub language_from_browser: bool,
    pub updated_at: DateTime<Utc>,
}

impl Settings {
    pub fn photo_url(&self) -> Option<String> {
        self.photo_name
            .as_ref()
            .map(|name| format!("/widget/v1/photos/{}/{name}", self.account_id))
    }

    /// Whether the shop wrote its own titles and messages (any of them).
    pub fn has_own_words(&self) -> bool {
        [
            &self.online_title,
            &self.online_message,
            &self.offline_title,
            &self.offline_message,
        ] != STARTING_WORDS
    }

    /// Whether a page of this `Origin` may embed the widget: any while no
    /// site is listed.
    pub fn allows_origin(&self, origin: Option<&str>) -> bool {
        match origin {
            _ if self.allowed_origins.is_empty() => true,
            // Not a browser page (a server, a test client): nothing to protect.
            None => true,
            Some(origin) => {
                let origin = origin.trim_end_matches('/').to_ascii_lowercase();
                self.allowed_origins.contains(&origin)
            }
        }
    }

    /// Whether a hidden-page pattern hides the page at `url` (the stored
    /// patterns parsed when they were saved, so none fails here).
    pub fn hiding(&self, url: &str) -> bool {
        let pages = self
            .compiled_hidden_pages
            .get_or_init(|| HiddenPages::parse(&self.hidden_pages).unwrap_or_default());
        pages.hiding(url).is_some()
    }
}

/// The settings as `GET /api/v1/widget/settings` answers them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SettingsOut {
    pub enabled: bool,
    /// `chime`, `bell`, `pop` or `none`.
    pub manager_sound: String,
    pub visitor_sound: String,
    /// `bottom_right` or `bottom_left`.
    pub position: String,
    /// `#rrggbb`.
    pub color: String,
    pub online_title: String,
    pub online_message: String,
    pub offline_title: String,
    pub offline_message: String,
    pub hidden_pages: Vec<String>,
    pub allowed_origins: Vec<String>,
    /// The offline photo (a new URL for each new photo), or null.
    pub offline_photo_url: Option<String>,
    /// The widget's language, `en` or `ru`: the shop's.
    pub language: String,
    /// Whether the widget speaks the visitor's browser language instead,
    /// when that is one it has (else `language`).
    pub language_from_browser: bool,
    pub site_key: String,
    /// Owners and admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_secret: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl SettingsOut {
    pub fn new(settings: &Settings, with_secret: bool) -> Self {
        Self {
            enabled: settings.enabled,
            manager_sound: settings.manager_sound.clone(),
            visitor_sound: settings.visitor_sound.clone(),
            position: settings.position.clone(),
            color: settings.color.clone(),
            online_title: settings.online_title.clone(),
            online_message: settings.online_message.clone(),
            offline_title: settings.offline_title.clone(),
            offline_message: settings.offline_message.clone(),
            hidden_pages: settings.hidden_pages.clone(),
            allowed_origins: settings.allowed_origins.clone(),
            offline_photo_url: settings.photo_url(),
            language: settings.language.clone(),
            language_from_browser: settings.language_from_browser,
            site_key: settings.site_key.clone(),
            identity_secret: with_secret.then(|| settings.identity_secret.clone()),
            updated_at: settings.updated_at,
        }
    }
}

/// The body of `PUT /api/v1/widget/settings`: every editable field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsIn {
    pub enabled: bool,
    #[schema(pattern = "^(chime|bell|pop|none)$")]
    pub manager_sound: String,
    #[schema(pattern = "^(chime|bell|pop|none)$")]
    pub visitor_sound: String,
    #[schema(pattern = "^(bottom_right|bottom_left)$")]
    pub position: String,
    #[schema(pattern = "^#[0-9a-fA-F]{6}$")]
    pub color: String,
    /// 1 to 60 characters, not all blank.
    #[schema(min_length = 1, max_length = 60, pattern = "\\S")]
    pub online_title: String,
    #[schema(max_length = 300)]
    pub online_message: String,
    #[schema(min_length = 1, max_length = 60, pattern = "\\S")]
    pub offline_title: String,
    #[schema(max_length = 300)]
    pub offline_message: String,
    /// Up to 50 patterns of 1 to 300 characters, each one that parses
    /// (docs/widget.md says how they match).
    #[schema(max_items = 50, inline, value_type = Vec<HiddenPagePattern>)]
    pub hidden_pages: Vec<String>,
    /// Up to 20 origins, `https://host[:port]`; empty allows any.
    #[schema(max_items = 20, inline, value_type = Vec<AllowedOrigin>)]
    pub allowed_origins: Vec<String>,
    /// `en` or `ru`; left out: as it is.
    #[serde(default)]
    #[schema(pattern = "^(en|ru)$")]
    pub language: Option<String>,
    /// Left out: as it is.
    #[serde(default)]
    pub language_from_browser: Option<bool>,
    /// Left out: keep the photo; null: remove it; a string: the new image's
    /// bytes in base64 (PNG, JPEG or WebP, at most 1 MiB).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub offline_photo: Option<Option<String>>,
}

/// A hidden-page pattern, as the OpenAPI document states it.
pub struct HiddenPagePattern;

impl utoipa::PartialSchema for HiddenPagePattern {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(Some(1), Some(patterns::MAX_PATTERN_CHARS), "\\S")
    }
}
impl ToSchema for HiddenPagePattern {}

/// An allowed site, as the OpenAPI document states it: [`ORIGIN_PATTERN`]
/// in any case, with an optional trailing slash.
pub struct AllowedOrigin;

/// [`ORIGIN_PATTERN`] as the document states it.
const ORIGIN_PATTERN_ANY_CASE: &str = "^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?/?$";

impl utoipa::PartialSchema for AllowedOrigin {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        string_schema(None, None, ORIGIN_PATTERN_ANY_CASE)
    }
}
impl ToSchema for AllowedOrigin {}

fn string_schema(
    min: Option<usize>,
    max: Option<usize>,
    pattern: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(min)
        .max_length(max)
        .pattern(Some(pattern))
        .into()
}

/// A field that may be absent (`None`), null (`Some(None)`) or a value.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// What a save does with the photo.
#[derive(Debug, Clone)]
pub enum PhotoChange {
    Keep,
    Remove,
    Replace(Photo),
}

/// Settings that passed every check.
#[derive(Debug)]
pub struct Valid {
    pub body: SettingsIn,
    pub photo: PhotoChange,
}

/// Checks every field and names each bad one; trims titles and lowercases
/// origins and the colour.
pub fn validate(mut body: SettingsIn) -> Result<Valid, Error> {
    let mut fields: Fields = Vec::new();
    let mut bad = |field: &str, problem: String| fields.push((field.to_owned(), problem));
    for (field, value) in [
        ("manager_sound", &body.manager_sound),
        ("visitor_sound", &body.visitor_sound),
    ] {
        if !SOUNDS.contains(&value.as_str()) {
            bad(field, format!("must be one of {}", SOUNDS.join(", ")));
        }
    }
    if !POSITIONS.contains(&body.position.as_str()) {
        bad(
            "position",
            format!("must be one of {}", POSITIONS.join(", ")),
        );
    }
    if let Some(language) = &body.language
        && !LANGUAGES.contains(&language.as_str())
    {
        bad(
            "language",
            format!("must be one of {}", LANGUAGES.join(", ")),
        );
    }
    body.color = body.color.trim().to_ascii_lowercase();
    if !COLOR.is_match(&body.color) {
        bad("color", "is not a colour like #1f6feb".into());
    }
    for (field, value) in [
        ("online_title", &mut body.online_title),
        ("offline_title", &mut body.offline_title),
    ] {
        *value = value.trim().to_owned();
        if let Err(problem) = text(value, 1, MAX_TITLE_CHARS) {
            bad(field, problem);
        }
    }
    for (field, value) in [
        ("online_message", &mut body.online_message),
        ("offline_message", &mut body.offline_message),
    ] {
        *value = value.trim().to_owned();
        if let Err(problem) = text(value, 0, MAX_MESSAGE_CHARS) {
            bad(field, problem);
        }
    }
    body.hidden_pages = body
        .hidden_pages
        .iter()
        .map(|p| p.trim().to_owned())
        .collect();
    if body.hidden_pages.len() > patterns::MAX_PATTERNS {
        bad(
            "hidden_pages",
            format!("has more than {} patterns", patterns::MAX_PATTERNS),
        );
    } else if let Err(problems) = HiddenPages::parse(&body.hidden_pages) {
        for (i, problem) in problems {
            bad(&format!("hidden_pages[{i}]"), problem);
        }
    }
    body.allowed_origins = body.allowed_origins.iter().map(|o| origin(o)).collect();
    if body.allowed_origins.len() > MAX_ORIGINS {
        bad(
            "allowed_origins",
            format!("has more than {MAX_ORIGINS} sites"),
        );
    } else {
        for (i, origin) in body.allowed_origins.iter().enumerate() {
            if !ORIGIN.is_match(origin) {
                bad(
                    &format!("allowed_origins[{i}]"),
                    "is not a site like https://shop.example.com (no path)".into(),
                );
            }
        }
    }
    let photo = match body.offline_photo.take() {
        None => PhotoChange::Keep,
        Some(None) => PhotoChange::Remove,
        Some(Some(data)) => match photo::check(&data) {
            Ok(photo) => PhotoChange::Replace(photo),
            Err(problem) => {
                bad("offline_photo", problem);
                PhotoChange::Keep
            }
        },
    };
    match fields.is_empty() {
        true => Ok(Valid { body, photo }),
        false => Err(Error::InvalidFields(fields)),
    }
}

fn text(value: &str, min: usize, max: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length < min {
        return Err("is empty".into());
    }
    if length > max {
        return Err(format!("is longer than {max} characters"));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err("has a control character".into());
    }
    Ok(())
}

static COLOR: LazyLock<Regex> = LazyLock::new(|| Regex::new(COLOR_PATTERN).expect("pattern"));
static ORIGIN: LazyLock<Regex> = LazyLock::new(|| Regex::new(ORIGIN_PATTERN).expect("pattern"));

/// An allowed site as browsers send it in `Origin`: lower case, without a
/// trailing slash or the scheme's default port.
fn origin(typed: &str) -> String {
    let origin = typed.trim().trim_end_matches('/').to_ascii_lowercase();
    match (origin.strip_suffix(":443"), origin.strip_suffix(":80")) {
        (Some(bare), _) if origin.starts_with("https://") => bare.to_owned(),
        (_, Some(bare)) if origin.starts_with("http://") => bare.to_owned(),
        _ => origin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> serde_json::Value {
        serde_json::json!({
            "enabled": true, "manager_sound": "chime", "visitor_sound": "none",
            "position": "bottom_left", "color": "#1F6FEB",
            "online_title": " Online ", "online_message": "", "offline_title": "Away",
            "offline_message": "Leave a message", "hidden_pages": ["/checkout*"],
            "allowed_origins": ["https://Shop.example/"],
        })
    }

    fn check(value: serde_json::Value) -> Result<Valid, Error> {
        validate(serde_json::from_value(value).expect("the shape is right"))
    }

    fn problems(value: serde_json::Value) -> Vec<String> {
        match check(value) {
            Err(Error::InvalidFields(fields)) => fields.into_iter().map(|(f, _)| f).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn good_settings_are_normalised() {
        let valid = check(body()).expect("valid");
        assert_eq!(valid.body.color, "#1f6feb");
        assert_eq!(valid.body.online_title, "Online");
        assert_eq!(valid.body.allowed_origins, ["https://shop.example"]);
        assert_eq!(origin(" HTTPS://Shop.example:443/"), "https://shop.example");
        assert_eq!(origin("http://shop.example:80"), "http://shop.example");
        assert_eq!(origin("http://shop.example:443"), "http://shop.example:443");
        assert!(matches!(valid.photo, PhotoChange::Keep));
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = body();
        bad["color"] = "blue".into();
        bad["language"] = "de".into();
        bad["position"] = "top".into();
        bad["visitor_sound"] = "trumpet".into();
        bad["online_title"] = "x".repeat(61).into();
        bad["offline_title"] = "  ".into();
        bad["offline_message"] = "y".repeat(301).into();
        bad["hidden_pages"] = serde_json::json!(["/fine", "/a["]);
        bad["allowed_origins"] = serde_json::json!(["https://ok.example", "shop.example/path"]);
        bad["offline_photo"] = "bm90IGFuIGltYWdl".into();
        assert_eq!(
            problems(bad),
            [
                "visitor_sound",
                "position",
                "language",
                "color",
                "online_title",
                "offline_title",
                "offline_message",
                "hidden_pages[1]",
                "allowed_origins[1]",
                "offline_photo"
            ]
        );
    }

    #[test]
    fn the_photo_may_be_kept_removed_or_replaced() {
        let mut removed = body();
        removed["offline_photo"] = serde_json::Value::Null;
        assert!(matches!(check(removed).unwrap().photo, PhotoChange::Remove));
        let mut replaced = body();
        replaced["offline_photo"] = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            super::super::photo::tests::png(4, 4),
        )
        .into();
        assert!(matches!(
            check(replaced).unwrap().photo,
            PhotoChange::Replace(_)
        ));
    }

    #[test]
    fn origins_are_checked_against_the_allowed_list() {
        let mut settings = Settings {
            account_id: Uuid::nil(),
            site_key: String::new(),
            visitor_key: vec![],
            identity_secret: String::new(),
            enabled: true,
            manager_sound: "chime".into(),
            visitor_sound: "chime".into(),
            position: "bottom_right".into(),
            color: "#000000".into(),
            online_title: "a".into(),
            online_message: String::new(),
            offline_title: "b".into(),
            offline_message: String::new(),
            hidden_pages: vec![],
            allowed_origins: vec![],
            compiled_hidden_pages: Default::default(),
            photo_name: None,
            language: "en".into(),
            language_from_browser: true,
            updated_at: Utc::now(),
        };
        assert!(settings.allows_origin(Some("https://anywhere.example")));
        settings.allowed_origins = vec!["https://shop.example".into()];
        assert!(settings.allows_origin(Some("https://Shop.example")));
        assert!(!settings.allows_origin(Some("https://evil.example")));
        assert!(!settings.allows_origin(Some("http://shop.example")));
        assert!(!settings.allows_origin(Some("null")));
    }
}
