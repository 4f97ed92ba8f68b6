//! The console's message catalogues (`static/console/i18n/<language>.json`)
//! kept whole and in use: every language has every key (see
//! [`crate::catalogues`]), every key the code names exists, every key is
//! named somewhere, and no words a manager reads are written in the code
//! instead of the catalogues.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde_json::Value;

use super::console::ConsoleFiles;
use crate::catalogues;

fn text(path: &str) -> String {
    catalogues::text::<ConsoleFiles>(path)
}

fn catalogues_by_language() -> BTreeMap<String, Value> {
    catalogues::load::<ConsoleFiles>()
}

/// The console's scripts, by path.
fn scripts() -> BTreeMap<String, String> {
    ConsoleFiles::iter()
        .filter(|path| path.ends_with(".js"))
        .map(|path| (path.to_string(), text(&path)))
        .collect()
}

#[test]
fn every_language_has_every_key_with_its_plural_forms_and_placeholders() {
    let all = catalogues_by_language();
    assert_eq!(all.keys().collect::<Vec<_>>(), ["en", "ru"]);
    catalogues::check_whole(&all);
}

#[test]
fn every_key_the_code_names_exists_and_every_key_is_named() {
    let english = &catalogues_by_language()["en"];
    let keys = catalogues::keys(english);
    let sections: BTreeSet<&str> = english
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // A key written out ('section.key'), or a section's keys chosen at run
    // time (`section.${code}`).
    let literal = Regex::new(r#"['"`]([a-z_]+(?:\.[a-z_0-9]+)+)['"`]"#).unwrap();
    let dynamic = Regex::new(r"`([a-z_]+)\.\$\{").unwrap();
    let (mut named, mut dynamic_sections) = (BTreeSet::new(), BTreeSet::new());
    for source in scripts().values() {
        for c in literal.captures_iter(source) {
            let key = c[1].to_owned();
            if sections.contains(key.split('.').next().unwrap()) {
                named.insert(key);
            }
        }
        for c in dynamic.captures_iter(source) {
            dynamic_sections.insert(c[1].to_owned());
        }
    }
    let missing: Vec<_> = named.difference(&keys).collect();
    assert!(
        missing.is_empty(),
        "named in the code, not in the catalogues: {missing:?}"
    );
    let unused: Vec<_> = keys
        .iter()
        .filter(|key| !named.contains(*key))
        .filter(|key| !dynamic_sections.contains(key.split('.').next().unwrap()))
        .collect();
    assert!(
        unused.is_empty(),
        "in the catalogues, named nowhere: {unused:?}"
    );
}

/// Lines of a script that put words on the screen from a literal: a
/// capitalised phrase as a string, or a label, title, placeholder or text
/// set from one. A line ending in `// in every language` is words that do
/// not change with it (a language's name in itself).
fn bypassing(source: &str) -> Vec<String> {
    let shown = Regex::new(
        r#"(?x)
        '[A-Z][a-z’']*[\x20,:?!][^']*[a-z.…?!:]'        # 'A phrase like this.'
        | `[A-Z][a-z’']*[\x20,:?!][^`]*`                # `A phrase with ${x}`
        | (aria-label|title|placeholder|label)['"]?:\s*'[A-Za-z][^'@./:\#]*'  # attribute: 'Words'
        | textContent\s*=\s*'[A-Za-z]                     # textContent = 'Words'
        "#,
    )
    .unwrap();
    source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//") && !line.trim_start().starts_with('*'))
        .filter(|line| !line.contains("console.") && !line.contains("import "))
        // Words that are the same in every language (a language's own name).
        .filter(|line| !line.ends_with("// in every language"))
        .filter(|line| shown.is_match(line))
        .map(|line| line.trim().to_owned())
        .collect()
}

#[test]
fn no_words_a_manager_reads_bypass_the_catalogues() {
    let offenders: BTreeMap<String, Vec<String>> = scripts()
        .into_iter()
        .map(|(path, source)| (path, bypassing(&source)))
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    assert!(
        offenders.is_empty(),
        "words outside the catalogues: {offenders:#?}"
    );
}
