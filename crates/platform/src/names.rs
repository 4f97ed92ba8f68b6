//! What the suite calls people who have not said their name, the same in the
//! console, its lists and the e-mails about them.

use uuid::Uuid;

/// An anonymous visitor's name: the end of their contact id, e.g. `Visitor 4F2A`.
pub fn visitor_label(contact_id: Uuid) -> String {
    format!("Visitor {}", visitor_tag(contact_id))
}

/// What tells anonymous visitors apart in their names, in any language: the
/// end of their contact id, e.g. `4F2A`.
pub fn visitor_tag(contact_id: Uuid) -> String {
    let simple = contact_id.simple().to_string().to_uppercase();
    simple[simple.len() - 4..].to_owned()
}
