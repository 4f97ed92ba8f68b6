//! The addresses of ours that mail comes back to, each signed so it cannot
//! be guessed or made for another: a dialog's reply address,
//! `reply+<dialog id><tag>@<inbound domain>`, where answers come; and an
//! e-mail's bounce address, `bounce+<e-mail id><tag>@<inbound domain>`, the
//! envelope sender that delivery failures (DSNs) return to (VERP). The tag
//! is an HMAC of the kind and the id under the deployment's secret.
//! Lowercase hex, as mail servers may lowercase the local part; 59
//! characters at most, within the 64 a local part may have.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

const REPLY: &str = "reply+";
const BOUNCE: &str = "bounce+";
/// Bytes of the HMAC kept in the address.
const TAG_BYTES: usize = 10;

#[derive(Clone)]
pub struct ReplyAddresses {
    domain: String,
    secret: Vec<u8>,
}

impl ReplyAddresses {
    /// `None` when no inbound domain is set (e-mails then have no reply address).
    pub fn new(domain: &str, secret: &str) -> anyhow::Result<Option<Self>> {
        let domain = domain.trim().to_lowercase();
        if domain.is_empty() {
            return Ok(None);
        }
        if secret.len() < 16 {
            anyhow::bail!(
                "NOTIFICATION_INBOUND_SECRET must be set (16 characters or more) with NOTIFICATION_INBOUND_DOMAIN"
            );
        }
        Ok(Some(Self {
            domain,
            secret: secret.as_bytes().to_vec(),
        }))
    }

    pub fn for_dialog(&self, dialog_id: Uuid) -> String {
        self.address(REPLY, dialog_id)
    }

    /// The dialog an address of ours names; `None` for any other address
    /// (another domain, a made-up or altered one, a bounce address).
    pub fn dialog_of(&self, address: &str) -> Option<Uuid> {
        self.id_in(REPLY, address)
    }

    /// Where delivery failures of the e-mail `email_id` return.
    pub fn for_bounces(&self, email_id: Uuid) -> String {
        self.address(BOUNCE, email_id)
    }

    /// The e-mail a bounce address of ours names.
    pub fn bounce_of(&self, address: &str) -> Option<Uuid> {
        self.id_in(BOUNCE, address)
    }

    fn address(&self, kind: &str, id: Uuid) -> String {
        format!(
            "{kind}{}{}@{}",
            id.simple(),
            hex::encode(self.tag(kind, id)),
            self.domain
        )
    }

    fn id_in(&self, kind: &str, address: &str) -> Option<Uuid> {
        let address = address.trim().trim_matches(['<', '>']).to_lowercase();
        let (local, domain) = address.rsplit_once('@')?;
        if domain != self.domain {
            return None;
        }
        let token = local.strip_prefix(kind)?;
        if token.len() != 32 + TAG_BYTES * 2 {
            return None;
        }
        let id = Uuid::try_parse(&token[..32]).ok()?;
        let tag = hex::decode(&token[32..]).ok()?;
        let mut mac = self.mac(kind);
        mac.update(id.as_bytes());
        mac.verify_truncated_left(&tag).ok()?;
        Some(id)
    }

    fn tag(&self, kind: &str, id: Uuid) -> Vec<u8> {
        let mut mac = self.mac(kind);
        mac.update(id.as_bytes());
        mac.finalize().into_bytes()[..TAG_BYTES].to_vec()
    }

    /// The MAC of addresses of one kind. A reply address's tag stays what it
    /// was before bounce addresses came (addresses sent earlier still work);
    /// a bounce address's also covers its kind, so one is never the other.
    fn mac(&self, kind: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        if kind != REPLY {
            mac.update(kind.as_bytes());
        }
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses() -> ReplyAddresses {
        ReplyAddresses::new("Reply.Shop.Example", "a secret of sixteen+")
            .expect("valid")
            .expect("set")
    }

    #[test]
    fn an_address_names_its_dialog_and_nothing_else_does() {
        let addresses = addresses();
        let dialog = Uuid::now_v7();
        let address = addresses.for_dialog(dialog);
        assert!(address.starts_with("reply+"), "{address}");
        assert!(address.split('@').next().unwrap().len() <= 64);
        assert_eq!(addresses.dialog_of(&address), Some(dialog));
        assert_eq!(addresses.dialog_of(&address.to_uppercase()), Some(dialog));
        assert_eq!(addresses.dialog_of(&format!("<{address}>")), Some(dialog));
        // Another dialog's id with this tag, another domain, another secret.
        let other = Uuid::now_v7();
        let forged = address.replace(&dialog.simple().to_string(), &other.simple().to_string());
        assert_eq!(addresses.dialog_of(&forged), None);
        assert_eq!(
            addresses.dialog_of(&address.replace("reply.shop.example", "evil.example")),
            None
        );
        let elsewhere = ReplyAddresses::new("reply.shop.example", "another secret, long")
            .unwrap()
            .unwrap();
        assert_eq!(elsewhere.dialog_of(&address), None);
        assert_eq!(addresses.dialog_of("anna@reply.shop.example"), None);
    }

    #[test]
    fn a_bounce_address_names_its_email_and_is_no_reply_address() {
        let addresses = addresses();
        let email = Uuid::now_v7();
        let bounce = addresses.for_bounces(email);
        assert!(bounce.starts_with("bounce+"), "{bounce}");
        assert!(bounce.split('@').next().unwrap().len() <= 64);
        assert_eq!(addresses.bounce_of(&bounce), Some(email));
        assert_eq!(addresses.bounce_of(&bounce.to_uppercase()), Some(email));
        assert_eq!(addresses.dialog_of(&bounce), None);
        // The same id and tag under the other kind's prefix is not ours.
        let reply = addresses.for_dialog(email);
        assert_eq!(addresses.bounce_of(&reply), None);
        assert_eq!(
            addresses.bounce_of(&reply.replacen("reply+", "bounce+", 1)),
            None
        );
    }

    #[test]
    fn a_domain_needs_a_secret() {
        assert!(ReplyAddresses::new("reply.shop.example", "short").is_err());
        assert!(ReplyAddresses::new("", "").unwrap().is_none());
    }
}
