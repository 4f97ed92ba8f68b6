//! Identity verification: an e-mail from the shop's page counts as verified
//! only with the HMAC-SHA256 of that e-mail (in lower case) under the
//! account's identity secret, in hex, as the shop's back end computes it
//! (the scheme of Intercom's and Chatwoot's identity verification).

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Whether `user_hash` proves `email` for the account with `secret`.
pub fn verified(secret: &str, email: &str, user_hash: &str) -> bool {
    let Ok(expected) = hex::decode(user_hash.trim()) else {
        return false;
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(email.trim().to_lowercase().as_bytes());
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the Python snippet in docs/widget.md prints for these inputs:
    /// `hmac.new(b"s3cret", b"anna@example.com", hashlib.sha256).hexdigest()`.
    const ANNA: &str = "a9dbd5f8b5635f274a944b956a38813449b0079397e480f4f09c812ba7c5b413";

    #[test]
    fn the_shops_hash_verifies_the_email_in_any_case() {
        assert!(verified("s3cret", "anna@example.com", ANNA));
        assert!(verified(
            "s3cret",
            " Anna@Example.com",
            &ANNA.to_uppercase()
        ));
        assert!(!verified("another", "anna@example.com", ANNA));
        assert!(!verified("s3cret", "boris@example.com", ANNA));
        assert!(!verified("s3cret", "anna@example.com", "not hex"));
        assert!(!verified("s3cret", "anna@example.com", ""));
    }
}
