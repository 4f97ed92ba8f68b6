//! Visitor credentials: what the visitor socket hands a new visitor and
//! accepts from then on. A credential is `<visitor id>.<tag>`: 128 random
//! bits, and their HMAC-SHA256 under the account's visitor key, so a made-up,
//! guessed or altered credential, or one another account issued, is refused
//! without a database lookup.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use argon2::password_hash::rand_core::{OsRng, RngCore as _};

type HmacSha256 = Hmac<Sha256>;

/// The longest credential accepted (they are 66 characters).
pub const MAX_CHARS: usize = 128;

/// A new visitor id and its credential.
pub fn issue(visitor_key: &[u8]) -> (String, String) {
    let mut random = [0u8; 16];
    OsRng.fill_bytes(&mut random);
    let visitor_id = URL_SAFE_NO_PAD.encode(random);
    let credential = format!("{visitor_id}.{}", tag(visitor_key, &visitor_id));
    (visitor_id, credential)
}

/// The visitor id a credential stands for, if this account issued it.
pub fn verify(visitor_key: &[u8], credential: &str) -> Option<String> {
    if credential.len() > MAX_CHARS {
        return None;
    }
    let (visitor_id, tag) = credential.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let mut mac = HmacSha256::new_from_slice(visitor_key).ok()?;
    mac.update(visitor_id.as_bytes());
    // Compared in constant time.
    mac.verify_slice(&tag).ok()?;
    Some(visitor_id.to_owned())
}

/// The id a visitor's contact gets when it is created: derived from the
/// account and the visitor id, so the visitor's socket is addressed by it
/// (and a manager can write to them) before the contact exists. A visitor
/// gets a contact only when they first do something that needs one.
pub fn contact_id_for(account_id: uuid::Uuid, visitor_id: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&account_id, visitor_id.as_bytes())
}

fn tag(visitor_key: &[u8], visitor_id: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(visitor_key).expect("HMAC takes any key length");
    mac.update(visitor_id.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_accepted_by_its_account_only() {
        let (id, credential) = issue(b"key of shop a");
        assert_eq!(verify(b"key of shop a", &credential), Some(id.clone()));
        assert_eq!(verify(b"key of shop b", &credential), None);
        assert_eq!(URL_SAFE_NO_PAD.decode(&id).unwrap().len(), 16);
    }

    #[test]
    fn made_up_and_altered_credentials_are_refused() {
        let (id, credential) = issue(b"key");
        let other = issue(b"key").0;
        let swapped = credential.replacen(&id, &other, 1);
        for bad in [
            "",
            "visitor-1",
            id.as_str(),
            &format!("{id}."),
            &format!("{id}.AAAA"),
            swapped.as_str(),
            &format!("{credential}A"),
            &"x".repeat(MAX_CHARS + 1),
        ] {
            assert_eq!(verify(b"key", bad), None, "{bad:?} accepted");
        }
    }
}
