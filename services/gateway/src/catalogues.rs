//! The front ends' message catalogues (one JSON file per language per
//! front end: `static/widget/i18n`, `static/console/i18n`): loading them
//! from the embedded files, and, for the tests, checking them: every
//! language has every key of the English one, shaped alike, with the same
//! placeholders, and the plural forms its language's rules pick from. A
//! catalogue is sections of keys; a plural is an object of CLDR categories
//! (`one`, `few`, `many`, `other`, ...).

use std::collections::BTreeMap;

use rust_embed::RustEmbed;
use serde_json::Value;

#[cfg(test)]
pub use checks::{check_whole, keys};

/// An embedded text file; panics when it is missing or not UTF-8 (the
/// files are part of the build).
pub fn text<E: RustEmbed>(path: &str) -> String {
    let file = E::get(path).unwrap_or_else(|| panic!("{path} is not embedded"));
    String::from_utf8(file.data.into_owned()).unwrap_or_else(|_| panic!("{path} is not UTF-8"))
}

/// Every language's catalogue of a front end's files (`i18n/<language>.json`).
pub fn load<E: RustEmbed>() -> BTreeMap<String, Value> {
    E::iter()
        .filter_map(|path| {
            let language = path
                .strip_prefix("i18n/")?
                .strip_suffix(".json")?
                .to_owned();
            let catalogue = serde_json::from_str(&text::<E>(&path))
                .unwrap_or_else(|e| panic!("i18n/{language}.json does not parse: {e}"));
            Some((language, catalogue))
        })
        .collect()
}

#[cfg(test)]
mod checks {
    use std::collections::{BTreeMap, BTreeSet};

    use regex::Regex;
    use serde_json::Value;

    const PLURAL_CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

    /// The plural categories each language's `Intl.PluralRules` picks from for
    /// whole numbers (CLDR).
    fn plural_categories(language: &str) -> BTreeSet<&'static str> {
        match language {
            "en" => ["one", "other"].into(),
            "ru" => ["one", "few", "many", "other"].into(),
            other => panic!("no plural rules known for {other}"),
        }
    }

    /// Whether a catalogue's object is a plural's forms rather than a section.
    pub fn is_plural(value: &Value) -> bool {
        value.as_object().is_some_and(|forms| {
            forms.contains_key("other")
                && forms
                    .keys()
                    .all(|k| PLURAL_CATEGORIES.contains(&k.as_str()))
        })
    }

    /// Every key of a catalogue, dotted (`section.key`); a plural is one key.
    pub fn keys(catalogue: &Value) -> BTreeSet<String> {
        fn walk(prefix: &str, value: &Value, out: &mut BTreeSet<String>) {
            match value.as_object() {
                Some(entries) if !is_plural(value) => {
                    for (key, value) in entries {
                        let dotted = match prefix {
                            "" => key.clone(),
                            _ => format!("{prefix}.{key}"),
                        };
                        walk(&dotted, value, out);
                    }
                }
                _ => {
                    out.insert(prefix.to_owned());
                }
            }
        }
        let mut out = BTreeSet::new();
        walk("", catalogue, &mut out);
        out
    }

    fn placeholders(words: &str) -> BTreeSet<String> {
        let placeholder = Regex::new(r"\{(\w+)\}").unwrap();
        placeholder
            .captures_iter(words)
            .map(|c| c[1].to_owned())
            .collect()
    }

    fn at<'a>(catalogue: &'a Value, key: &str) -> &'a Value {
        key.split('.').fold(catalogue, |node, part| &node[part])
    }

    /// Panics, naming the key, where a catalogue differs from the English one.
    pub fn check_whole(catalogues: &BTreeMap<String, Value>) {
        let english = &catalogues["en"];
        let english_keys = keys(english);
        for (language, catalogue) in catalogues {
            assert_eq!(keys(catalogue), english_keys, "{language}'s keys");
            for key in &english_keys {
                match (at(catalogue, key), at(english, key)) {
                    (Value::String(words), Value::String(english)) => {
                        assert!(!words.trim().is_empty(), "{language}.{key} is empty");
                        assert_eq!(
                            placeholders(words),
                            placeholders(english),
                            "{language}.{key}"
                        );
                    }
                    (forms @ Value::Object(_), english @ Value::Object(_))
                        if is_plural(forms) && is_plural(english) =>
                    {
                        let forms = forms.as_object().unwrap();
                        let categories: BTreeSet<_> = forms.keys().map(String::as_str).collect();
                        assert_eq!(
                            categories,
                            plural_categories(language),
                            "{language}.{key}'s plural forms"
                        );
                        let wanted = placeholders(english["other"].as_str().unwrap_or_default());
                        for (category, form) in forms {
                            let form = form.as_str().expect("a plural form is text");
                            assert!(
                                form.contains("{count}"),
                                "{language}.{key}.{category} has no {{count}}"
                            );
                            assert_eq!(placeholders(form), wanted, "{language}.{key}.{category}");
                        }
                    }
                    _ => panic!("{language}.{key} is not shaped as in English"),
                }
            }
        }
    }
}
