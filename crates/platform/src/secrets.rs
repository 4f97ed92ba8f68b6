//! Secrets at rest (messengers' bot and access tokens, shops' SMTP
//! passwords): sealed with XChaCha20-Poly1305 under a key from
//! configuration, bound to their row (the associated data, so a sealed value
//! moved to another row or account does not open), and rotatable: the key
//! ring names its keys, the first seals, any of them opens, and what an
//! older key sealed is sealed again under the first at start.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

/// Bytes of a nonce, stored ahead of the ciphertext.
const NONCE_BYTES: usize = 24;
/// Bytes of a key.
pub const KEY_BYTES: usize = 32;

/// The key ring's text as configured (`id:base64,...`), never shown in logs
/// or debug output.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretKeys(pub String);

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "(none)"
        } else {
            "(redacted)"
        })
    }
}

impl SecretKeys {
    /// The ring, or `None` when no key is configured.
    pub fn ring(&self) -> anyhow::Result<Option<KeyRing>> {
        match self.0.trim() {
            "" => Ok(None),
            spec => KeyRing::parse(spec).map(Some),
        }
    }
}

/// A value sealed under one of the ring's keys: `nonce || ciphertext`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

/// The keys secrets are sealed under, newest first.
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<(String, XChaCha20Poly1305)>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("KeyRing").field("key_ids", &ids).finish()
    }
}

impl KeyRing {
    /// Reads `id:base64,id:base64,...` (standard base64 of 32 random
    /// bytes each; ids are short names such as `2026-12`). The first key
    /// seals; the others only open what they sealed before a rotation.
    pub fn parse(spec: &str) -> anyhow::Result<Self> {
        let mut keys: Vec<(String, XChaCha20Poly1305)> = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, key) = entry
                .split_once(':')
                .context("each secret key is id:base64")?;
            let id = id.trim();
            if id.is_empty() || id.len() > 32 {
                bail!("a secret key's id is 1 to 32 characters");
            }
            if keys.iter().any(|(known, _)| known == id) {
                bail!("secret key id {id} is given twice");
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(key.trim())
                .with_context(|| format!("secret key {id} is not base64"))?;
            if bytes.len() != KEY_BYTES {
                bail!(
                    "secret key {id} has {} bytes; it must have {KEY_BYTES}",
                    bytes.len()
                );
            }
            let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
                .map_err(|_| anyhow::anyhow!("secret key {id} has the wrong length"))?;
            keys.push((id.to_owned(), cipher));
        }
        if keys.is_empty() {
            bail!("no secret key given");
        }
        Ok(Self { keys })
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    /// Seals `plaintext` under the current key, bound to `bound_to`.
    pub fn seal(&self, plaintext: &[u8], bound_to: &[u8]) -> Sealed {
        let (id, cipher) = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad: bound_to,
        };
        let ciphertext = cipher
            .encrypt(&nonce, payload)
            .expect("sealing in memory does not fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        Sealed {
            key_id: id.clone(),
            bytes,
        }
    }

    /// Opens what [`KeyRing::seal`] sealed for `bound_to`; an error when the
    /// key is not in the ring or the value was altered or moved.
    pub fn open(&self, sealed: &Sealed, bound_to: &[u8]) -> anyhow::Result<Vec<u8>> {
        let Some((_, cipher)) = self.keys.iter().find(|(id, _)| *id == sealed.key_id) else {
            bail!("secret key {} is not configured", sealed.key_id);
        };
        if sealed.bytes.len() < NONCE_BYTES {
            bail!("a sealed secret is too short");
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: ciphertext,
            aad: bound_to,
        };
        cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| {
                anyhow::anyhow!("a sealed secret does not open: altered, or not this row's")
            })
    }
}

/// A new random key, as the configuration takes it (base64).
pub fn new_key() -> String {
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    base64::engine::general_purpose::STANDARD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(spec: &str) -> KeyRing {
        KeyRing::parse(spec).expect("a valid key ring")
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_row_and_unaltered() {
        let keys = ring(&format!("k1:{}", new_key()));
        let sealed = keys.seal(b"123:bot-token", b"row-1");
        assert!(
            !sealed.bytes.windows(9).any(|w| w == b"bot-token"),
            "not in the clear"
        );
        assert_eq!(keys.open(&sealed, b"row-1").unwrap(), b"123:bot-token");
        assert!(
            keys.open(&sealed, b"row-2").is_err(),
            "moved to another row"
        );
        let mut altered = sealed.clone();
        *altered.bytes.last_mut().unwrap() ^= 1;
        assert!(keys.open(&altered, b"row-1").is_err(), "altered");
        assert_ne!(
            keys.seal(b"same", b"r").bytes,
            keys.seal(b"same", b"r").bytes,
            "fresh nonces"
        );
    }

    #[test]
    fn after_a_rotation_old_secrets_open_and_are_stale_and_new_ones_use_the_new_key() {
        let (old, new) = (new_key(), new_key());
        let before = ring(&format!("k1:{old}"));
        let sealed = before.seal(b"token", b"row");
        let after = ring(&format!("k2:{new}, k1:{old}"));
        assert_eq!(after.open(&sealed, b"row").unwrap(), b"token");
        assert_eq!(sealed.key_id, "k1", "to be sealed again under k2");
        let resealed = after.seal(b"token", b"row");
        assert_eq!(resealed.key_id, after.current_id());
        // Once the old key is dropped, what it sealed no longer opens.
        let only_new = ring(&format!("k2:{new}"));
        assert!(only_new.open(&sealed, b"row").is_err());
    }

    #[test]
    fn bad_key_rings_are_refused_with_a_reason() {
        let short = base64::engine::general_purpose::STANDARD.encode([0u8; 16]);
        for (spec, reason) in [
            ("", "no secret key"),
            ("k1", "id:base64"),
            ("k1:not base64!", "not base64"),
            (&format!("k1:{short}") as &str, "16 bytes"),
            (&format!("k1:{k},k1:{k}", k = new_key()) as &str, "twice"),
        ] {
            let e = KeyRing::parse(spec).unwrap_err().to_string();
            assert!(e.contains(reason), "{spec:?}: {e}");
        }
    }
}
