//! What a manager may write on a contact, checked field by field: a name, an
//! e-mail address, a phone number (what people type: an optional `+`,
//! digits, spaces, dashes, dots and brackets, with 5 to 15 digits, as E.164
//! allows) and custom fields.
//!
//! The e-mail and phone rules are regular expressions that the gateway's
//! OpenAPI document states word for word, so the document and the service
//! agree on every input (the API fuzzer checks both ways). The e-mail rule
//! is the common `user@domain.tld` shape of a deliverable address, a subset
//! of RFC 5322 without quoted parts or comments.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use regex::Regex;

use crate::error::{Error, Result};

/// An e-mail address, as the OpenAPI document states it.
pub const EMAIL_PATTERN: &str = r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$";
/// A phone number, as the OpenAPI document states it.
pub const PHONE_PATTERN: &str = r"^\+?[ ().-]*([0-9][ ().-]*){5,15}$";

static EMAIL: LazyLock<Regex> = LazyLock::new(|| Regex::new(EMAIL_PATTERN).expect("pattern"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| Regex::new(PHONE_PATTERN).expect("pattern"));

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_BYTES: usize = 254;
pub const MAX_CUSTOM_FIELDS: usize = 50;
pub const MAX_FIELD_KEY_CHARS: usize = 64;
pub const MAX_FIELD_VALUE_CHARS: usize = 1000;

/// The checked change: `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct Change {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub custom_fields: Option<BTreeMap<String, String>>,
}

pub fn check(
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    custom_fields: Option<HashMap<String, String>>,
) -> Result<Change> {
    let mut problems: Vec<(&'static str, String)> = Vec::new();
    // Lengths and patterns are checked on what was sent, as the OpenAPI
    // document states them; the name and field names are stored trimmed.
    if let Some(name) = &name {
        if name.contains('\0') {
            problems.push(("name", "contains a NUL character".into()));
        } else if name.chars().count() > MAX_NAME_CHARS {
            problems.push((
                "name",
                format!("is longer than {MAX_NAME_CHARS} characters"),
            ));
        }
    }
    let name = name.map(|n| n.trim().to_owned());
    let email = email.map(|e| e.to_lowercase());
    if let Some(email) = email.as_deref().filter(|e| !e.is_empty())
        && !is_email(email)
    {
        problems.push(("email", "is not an e-mail address".into()));
    }

    if let Some(phone) = phone.as_deref().filter(|p| !p.is_empty())
        && !is_phone(phone)
    {
        problems.push((
            "phone",
            "is not a phone number (5 to 15 digits, an optional +)".into(),
        ));
    }
    if let Some(fields) = &custom_fields {
        if fields.len() > MAX_CUSTOM_FIELDS {
            problems.push((
                "custom_fields",
                format!("has more than {MAX_CUSTOM_FIELDS} fields"),
            ));
        }
        let bad_key = fields.keys().any(|k| {
            k.trim().is_empty() || k.chars().count() > MAX_FIELD_KEY_CHARS || k.contains('\0')
        });
        let bad_value = fields
            .values()
            .any(|v| v.chars().count() > MAX_FIELD_VALUE_CHARS || v.contains('\0'));
        if bad_key {
            problems.push((
                "custom_fields",
                format!("names are 1 to {MAX_FIELD_KEY_CHARS} characters"),
            ));
        } else if bad_value {
            problems.push((
                "custom_fields",
                format!("values are at most {MAX_FIELD_VALUE_CHARS} characters"),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Fields(problems));
    }
    let custom_fields = custom_fields.map(|fields| {
        fields
            .into_iter()
            .map(|(k, v)| (k.trim().to_owned(), v))
            .collect::<BTreeMap<_, _>>()
    });
    Ok(Change {
        name,
        email,
        phone,
        custom_fields,
    })
}

fn is_email(email: &str) -> bool {
    email.len() <= MAX_EMAIL_BYTES && EMAIL.is_match(email)
}

fn is_phone(phone: &str) -> bool {
    PHONE.is_match(phone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(result: Result<Change>) -> Vec<&'static str> {
        match result {
            Err(Error::Fields(problems)) => problems.into_iter().map(|(f, _)| f).collect(),
            other => panic!("expected field problems, got {other:?}"),
        }
    }

    #[test]
    fn good_details_pass_and_are_tidied() {
        let change = check(
            Some("  Anna Petrova ".into()),
            Some("Anna@Shop.Example".into()),
            Some("+7 (912) 345-67-89".into()),
            None,
        )
        .unwrap();
        assert_eq!(change.name.as_deref(), Some("Anna Petrova"));
        assert_eq!(change.email.as_deref(), Some("anna@shop.example"));
        assert!(check(None, Some(String::new()), Some(String::new()), None).is_ok());
    }

    #[test]
    fn bad_emails_and_phones_are_refused_by_field() {
        for email in [
            "anna",
            "anna@",
            "@shop.example",
            "anna@localhost",
            "a b@shop.example",
        ] {
            assert_eq!(
                fields_of(check(None, Some(email.into()), None, None)),
                ["email"],
                "{email}"
            );
        }
        for phone in ["12", "call me", "+1234567890123456", "12-34<script>"] {
            assert_eq!(
                fields_of(check(None, None, Some(phone.into()), None)),
                ["phone"],
                "{phone}"
            );
        }
        assert_eq!(
            fields_of(check(None, Some("x".into()), Some("y".into()), None)),
            ["email", "phone"]
        );
    }

    #[test]
    fn custom_fields_are_bounded() {
        let many = (0..=MAX_CUSTOM_FIELDS)
            .map(|i| (format!("k{i}"), "v".to_owned()))
            .collect();
        assert_eq!(
            fields_of(check(None, None, None, Some(many))),
            ["custom_fields"]
        );
        let empty_key = HashMap::from([(" ".to_owned(), "v".to_owned())]);
        assert_eq!(
            fields_of(check(None, None, None, Some(empty_key))),
            ["custom_fields"]
        );
    }
}
