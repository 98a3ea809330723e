//! Values people give for a deployment's secrets (`deploy --secret NAME`, the
//! API's `secrets` field): sealed with ChaCha20-Poly1305 before they reach the
//! store, opened only by the process that executes the deployment, and handed
//! to the target — the local target's 0600 secrets file, a cloud's secret
//! store — never to a log, a plan, a bundle or the store in the clear.
//!
//! The key: `AUTODEPLOY_SECRETS_KEY` (64 hex characters; every API and worker
//! process of one service must share it), else `<home>/secrets.key`, created
//! 0600 with 32 random bytes on first use (one machine, one home). The
//! deployment id is the associated data, so a sealed value copied to another
//! deployment's row does not open.
//!
//! Deliberately not here: deciding which variables are secret (decide) or
//! where a target keeps them (local, render).

/// Why a secret could not be sealed or opened; worded for people.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("{0}")]
    Key(String),
    #[error("the stored value of secret {name} cannot be opened with this key: give the same AUTODEPLOY_SECRETS_KEY to every API and worker process (or keep <home>/secrets.key), or set it again with `autodeploy redeploy {deployment} --secret {name}`")]
    Open { deployment: String, name: String },
    #[error("the operating system's random source failed ({0}); nothing was stored")]
    Random(String),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::path::Path;

/// The key that seals and opens secret values.
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

const VERSION: u8 = 1;

impl SecretBox {
    /// The key from `hex_key` when given (`AUTODEPLOY_SECRETS_KEY`), else
    /// from `<home>/secrets.key` (created on first use).
    pub fn open_or_create(home: &Path, hex_key: Option<&str>) -> Result<SecretBox, SealError> {
        let key = match hex_key {
            Some(h) => parse_hex_key(h).ok_or_else(|| {
                SealError::Key(
                    "AUTODEPLOY_SECRETS_KEY must be 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`".into(),
                )
            })?,
            None => key_file(&home.join("secrets.key"))?,
        };
        Ok(SecretBox {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        })
    }

    /// `version ‖ nonce ‖ ciphertext+tag`, bound to `deployment`.
    pub fn seal(&self, deployment: &str, value: &str) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce).map_err(|e| SealError::Random(e.to_string()))?;
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: deployment.as_bytes(),
                },
            )
            .map_err(|_| SealError::Key("could not seal a secret value".into()))?;
        let mut out = Vec::with_capacity(1 + 12 + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The value sealed by [`SecretBox::seal`] for `deployment`.
    pub fn open(&self, deployment: &str, name: &str, sealed: &[u8]) -> Result<String, SealError> {
        let bad = || SealError::Open {
            deployment: deployment.to_string(),
            name: name.to_string(),
        };
        if sealed.len() < 13 || sealed[0] != VERSION {
            return Err(bad());
        }
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(&sealed[1..13]),
                Payload {
                    msg: &sealed[13..],
                    aad: deployment.as_bytes(),
                },
            )
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }
}

fn parse_hex_key(h: &str) -> Option<[u8; 32]> {
    let h = h.trim();
    if h.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in h.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// Read the key file, or create it (0600, before any byte is written).
fn key_file(path: &Path) -> Result<[u8; 32], SealError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::read(path) {
        Ok(b) if b.len() == 32 => {
            let mut k = [0u8; 32];
            k.copy_from_slice(&b);
            return Ok(k);
        }
        Ok(_) => {
            return Err(SealError::Key(format!(
                "{} is not a 32-byte key; restore it from a backup (secrets sealed with it cannot be opened otherwise) or remove it and set every secret again",
                path.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("could not read", path, e)),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("could not create", dir, e))?;
    }
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| SealError::Random(e.to_string()))?;
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(mut f) => {
            f.write_all(&key)
                .and_then(|_| f.sync_all())
                .map_err(|e| io("could not write", path, e))?;
            Ok(key)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => key_file(path),
        Err(e) => Err(io("could not create", path, e)),
    }
}

fn io(what: &'static str, path: &Path, source: std::io::Error) -> SealError {
    SealError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_deployment_and_key() {
        let home = tempfile::tempdir().unwrap();
        let b = SecretBox::open_or_create(home.path(), None).unwrap();
        let sealed = b.seal("dep_a", "s3cr3t value ✓").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"s3cr3t"));
        assert_eq!(b.open("dep_a", "K", &sealed).unwrap(), "s3cr3t value ✓");
        assert!(b.open("dep_b", "K", &sealed).is_err());
        // The key file is private and reused.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join("secrets.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = SecretBox::open_or_create(home.path(), None).unwrap();
        assert_eq!(again.open("dep_a", "K", &sealed).unwrap(), "s3cr3t value ✓");
        // Another key cannot open it, and says what to do.
        let other = SecretBox::open_or_create(home.path(), Some(&"ab".repeat(32))).unwrap();
        let e = other.open("dep_a", "K", &sealed).unwrap_err().to_string();
        assert!(e.contains("AUTODEPLOY_SECRETS_KEY"), "{e}");
        assert!(SecretBox::open_or_create(home.path(), Some("short")).is_err());
    }
}
