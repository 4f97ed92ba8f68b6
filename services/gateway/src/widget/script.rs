//! The widget's script as the shop's pages load it: `static/widget/widget.js`
//! with the catalogues of `static/widget/i18n` (one JSON file per language,
//! every word the widget shows) put in its place, built once. The tests
//! keep the catalogues whole: every language has every key, with the plural
//! forms its language needs, and no word the widget shows bypasses them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rust_embed::Embed;
use sha2::{Digest, Sha256};

use crate::catalogues;

#[derive(Embed)]
#[folder = "static/widget/"]
struct WidgetFiles;

/// Where widget.js takes the catalogues.
const MARKER: &str = "{} /* catalogues */";

/// The script served at `/widget.js`, with its ETag.
pub struct Script {
    pub body: Vec<u8>,
    pub etag: String,
}

pub static SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    let source = text("widget.js");
    assert!(
        source.contains(MARKER),
        "widget.js has no place for the catalogues"
    );
    let catalogues = serde_json::to_string(&catalogues()).expect("catalogues serialize");
    let body = source.replacen(MARKER, &catalogues, 1).into_bytes();
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(&body)));
    Script { body, etag }
});

/// Every language's catalogue, by language (`i18n/<language>.json`).
fn catalogues() -> BTreeMap<String, serde_json::Value> {
    catalogues::load::<WidgetFiles>()
}

fn text(path: &str) -> String {
    catalogues::text::<WidgetFiles>(path)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use regex::Regex;

    use super::*;
    use crate::widget::settings::LANGUAGES;

    #[test]
    fn every_language_the_settings_offer_has_a_catalogue_and_no_other() {
        let languages: Vec<String> = catalogues().into_keys().collect();
        assert_eq!(languages, LANGUAGES);
    }

    #[test]
    fn every_catalogue_has_every_key_with_its_plural_forms_and_placeholders() {
        crate::catalogues::check_whole(&catalogues());
    }

    #[test]
    fn the_widget_uses_every_key_and_only_keys_the_catalogues_have() {
        let source = text("widget.js");
        let used_pattern = Regex::new(r"\b(?:t|plural)\('(\w+)'").unwrap();
        let mut used: BTreeSet<String> = used_pattern
            .captures_iter(&source)
            .map(|c| c[1].to_owned())
            .collect();
        // Chosen between two by a condition: `t(online ? 'a' : 'b')`.
        let chosen = Regex::new(r"\bt\([\w.]+ \? '(\w+)' : '(\w+)'\)").unwrap();
        for c in chosen.captures_iter(&source) {
            used.insert(c[1].to_owned());
            used.insert(c[2].to_owned());
        }
        let keys = crate::catalogues::keys(&catalogues()["en"]);
        assert_eq!(
            used, keys,
            "keys used by widget.js and keys in the catalogues"
        );
    }

    #[test]
    fn no_word_the_widget_shows_bypasses_the_catalogues() {
        let source = text("widget.js");
        // Text put on the page straight from a literal: what a person reads.
        let shown = Regex::new(
            r#"(textContent|placeholder|title|alt) = ['"][^'"]*[A-Za-zА-Яа-я]|setAttribute\('aria-label', ['"]|el\('\w+', '[^']*', ['"]|showEmailError\(['"]"#,
        )
        .unwrap();
        let bypassing: Vec<&str> = source.lines().filter(|line| shown.is_match(line)).collect();
        assert!(
            bypassing.is_empty(),
            "words outside the catalogues: {bypassing:#?}"
        );
    }

    #[test]
    fn the_served_script_carries_the_catalogues() {
        let served = String::from_utf8(SCRIPT.body.clone()).unwrap();
        assert!(!served.contains(MARKER));
        assert!(served.contains("\"ru\":{") && served.contains("Открыть чат"));
    }
}
