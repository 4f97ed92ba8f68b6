//! The e-mails' words in each language: one catalogue per language
//! (`i18n/<language>.json`, compiled in), sections by e-mail, each string
//! once, with `{placeholders}`; a plural is an object of CLDR categories
//! chosen by `intl_pluralrules`. An e-mail to a manager speaks the language
//! they chose in the console, one to a visitor the shop's widget language;
//! anything else, English.

use std::collections::HashMap;
use std::sync::LazyLock;

use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};
use serde_json::Value;
use unic_langid::LanguageIdentifier;

/// The languages the e-mails speak, English first (the fallback).
pub const LANGUAGES: [&str; 2] = ["en", "ru"];

static CATALOGUES: LazyLock<HashMap<&'static str, Value>> = LazyLock::new(|| {
    [
        ("en", include_str!("../../i18n/en.json")),
        ("ru", include_str!("../../i18n/ru.json")),
    ]
    .into_iter()
    .map(|(language, text)| {
        let catalogue = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("i18n/{language}.json does not parse: {e}"));
        (language, catalogue)
    })
    .collect()
});

/// One language's words.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    language: &'static str,
}

impl Words {
    /// The words of `language` (`en`, `ru`); English for any other.
    pub fn of(language: &str) -> Self {
        let language = LANGUAGES
            .into_iter()
            .find(|known| *known == language)
            .unwrap_or("en");
        Self { language }
    }

    pub fn language(&self) -> &'static str {
        self.language
    }

    fn lookup(&self, key: &str) -> &'static Value {
        let find = |language: &str| {
            key.split('.')
                .try_fold(&CATALOGUES[language], |node, part| node.get(part))
        };
        find(self.language)
            .or_else(|| find("en"))
            .unwrap_or_else(|| panic!("no words for {key}"))
    }

    /// The words for `key` as they are.
    pub fn say(&self, key: &str) -> &'static str {
        self.lookup(key).as_str().unwrap_or_default()
    }

    /// The words for `key` with `{name}` placeholders filled from `values`.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        fill(self.say(key), values)
    }

    /// The plural form of `key` for `count`, `{count}` and `values` filled.
    pub fn count(&self, key: &str, count: u64, values: &[(&str, &str)]) -> String {
        let forms = self.lookup(key);
        let langid: LanguageIdentifier = self.language.parse().expect("a language id");
        let category = PluralRules::create(langid, PluralRuleType::CARDINAL)
            .and_then(|rules| rules.select(count))
            .unwrap_or(PluralCategory::OTHER);
        let name = match category {
            PluralCategory::ZERO => "zero",
            PluralCategory::ONE => "one",
            PluralCategory::TWO => "two",
            PluralCategory::FEW => "few",
            PluralCategory::MANY => "many",
            PluralCategory::OTHER => "other",
        };
        let form = forms
            .get(name)
            .or_else(|| forms.get("other"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let count = count.to_string();
        let mut all = vec![("count", count.as_str())];
        all.extend_from_slice(values);
        fill(form, &all)
    }
}

fn fill(words: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(words.to_owned(), |words, (name, value)| {
            words.replace(&format!("{{{name}}}"), value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of a catalogue, dotted; a plural is one key.
    fn keys(value: &Value, prefix: &str, out: &mut Vec<String>) {
        let plural = value.get("other").is_some();
        match value.as_object() {
            Some(entries) if !plural => {
                for (key, value) in entries {
                    let dotted = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    keys(value, &dotted, out);
                }
            }
            _ => out.push(prefix.to_owned()),
        }
    }

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        let placeholders = |text: &str| {
            let mut names: Vec<&str> = text
                .split('{')
                .skip(1)
                .filter_map(|s| s.split('}').next())
                .collect();
            names.sort();
            names.dedup();
            names.join(",")
        };
        let (mut english, mut russian) = (Vec::new(), Vec::new());
        keys(&CATALOGUES["en"], "", &mut english);
        keys(&CATALOGUES["ru"], "", &mut russian);
        assert_eq!(english, russian);
        for key in &english {
            let (en, ru) = (Words::of("en").lookup(key), Words::of("ru").lookup(key));
            match (en.as_str(), ru.as_str()) {
                (Some(en), Some(ru)) => assert_eq!(placeholders(en), placeholders(ru), "{key}"),
                _ => {
                    let forms = ru.as_object().expect("a plural");
                    let mut categories: Vec<&str> = forms.keys().map(String::as_str).collect();
                    categories.sort();
                    assert_eq!(categories, ["few", "many", "one", "other"], "{key}");
                    // "1 message" may read as "a message": only `one` may leave the count out.
                    let counted = forms.iter().filter(|(category, _)| *category != "one");
                    assert!(
                        counted
                            .into_iter()
                            .all(|(_, f)| f.as_str().unwrap().contains("{count}")),
                        "{key}"
                    );
                }
            }
        }
    }

    #[test]
    fn plurals_follow_each_languages_rules() {
        let ru = Words::of("ru");
        let days: Vec<String> = [1, 2, 5, 21]
            .into_iter()
            .map(|n| ru.count("access.days", n, &[]))
            .collect();
        assert_eq!(days, ["1 дня", "2 дней", "5 дней", "21 дня"]);
        let en = Words::of("en");
        assert_eq!(en.count("access.days", 1, &[]), "1 day");
        assert_eq!(en.count("access.days", 7, &[]), "7 days");
        assert_eq!(
            Words::of("de").language(),
            "en",
            "an unknown language is English"
        );
    }
}
