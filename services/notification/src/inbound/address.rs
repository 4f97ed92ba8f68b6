//! The reply address of a dialog: `reply+<dialog id><tag>@<inbound domain>`,
//! where the tag is an HMAC of the dialog id under the deployment's secret,
//! so an address cannot be guessed or made for another dialog. Lowercase
//! hex, as mail servers may lowercase the local part; 58 characters, within
//! the 64 a local part may have.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

const PREFIX: &str = "reply+";
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
        format!(
            "{PREFIX}{}{}@{}",
            dialog_id.simple(),
            hex::encode(self.tag(dialog_id)),
            self.domain
        )
    }

    /// The dialog an address of ours names; `None` for any other address
    /// (another domain, a made-up or altered one).
    pub fn dialog_of(&self, address: &str) -> Option<Uuid> {
        let address = address.trim().trim_matches(['<', '>']).to_lowercase();
        let (local, domain) = address.rsplit_once('@')?;
        if domain != self.domain {
            return None;
        }
        let token = local.strip_prefix(PREFIX)?;
        if token.len() != 32 + TAG_BYTES * 2 {
            return None;
        }
        let dialog_id = Uuid::try_parse(&token[..32]).ok()?;
        let tag = hex::decode(&token[32..]).ok()?;
        let mut mac = self.mac();
        mac.update(dialog_id.as_bytes());
        mac.verify_truncated_left(&tag).ok()?;
        Some(dialog_id)
    }

    fn tag(&self, dialog_id: Uuid) -> Vec<u8> {
        let mut mac = self.mac();
        mac.update(dialog_id.as_bytes());
        mac.finalize().into_bytes()[..TAG_BYTES].to_vec()
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length")
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
    fn a_domain_needs_a_secret() {
        assert!(ReplyAddresses::new("reply.shop.example", "short").is_err());
        assert!(ReplyAddresses::new("", "").unwrap().is_none());
    }
}
