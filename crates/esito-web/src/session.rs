//! Sessions of the screens: a random token in the cookie `esito_session`, only its SHA-256 kept
//! here, with the hash of the key it was opened with, its CSRF token and its expiry.
//!
//! Invariant: a session never holds the key itself; each request authenticates the key again
//! by its hash (`KeyCache::authenticate_hash`), so a key revoked or expired ends its sessions
//! within `KEY_FRESHNESS`. Sessions live in this process's memory: a restart signs everyone
//! out, which loses nothing but the sign-in.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "esito_session";
/// How long a session lasts from its sign-in: a working day.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);
/// The most sessions kept at once; at the limit, expired ones are dropped first, then the
/// oldest.
pub const SESSIONS_MAX: usize = 10_000;

/// A signed-in session: the key's hash, the CSRF token its forms carry, when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub key_hash: [u8; 32],
    pub csrf: String,
    pub expires_at: Instant,
}

#[derive(Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<[u8; 32], Session>>,
}

/// 64 hex digits of randomness (two UUIDv4s' random bytes), as the API's keys are made.
fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Sessions {
    /// Opens a session for the key with this hash; returns the token for the cookie, which
    /// is never kept.
    pub fn open(&self, key_hash: [u8; 32]) -> String {
        let token = random_token();
        let now = Instant::now();
        let mut sessions = self
            .by_hash
            .lock()
            .expect("the sessions lock is never poisoned");
        if sessions.len() >= SESSIONS_MAX {
            sessions.retain(|_, session| session.expires_at > now);
        }
        if sessions.len() >= SESSIONS_MAX {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, session)| session.expires_at)
                .map(|(hash, _)| *hash)
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            token_hash(&token),
            Session {
                key_hash,
                csrf: random_token(),
                expires_at: now + SESSION_LIFETIME,
            },
        );
        token
    }

    /// The session of this cookie's token, while it lasts.
    pub fn find(&self, token: &str) -> Option<Session> {
        let hash = token_hash(token);
        let mut sessions = self
            .by_hash
            .lock()
            .expect("the sessions lock is never poisoned");
        match sessions.get(&hash) {
            Some(session) if session.expires_at > Instant::now() => Some(session.clone()),
            Some(_) => {
                sessions.remove(&hash);
                None
            }
            None => None,
        }
    }

    /// Ends the session of this token.
    pub fn end(&self, token: &str) {
        self.by_hash
            .lock()
            .expect("the sessions lock is never poisoned")
            .remove(&token_hash(token));
    }

    /// Whether a session with this token's hash is kept (tests: only hashes are).
    pub fn holds_hash_of(&self, token: &str) -> bool {
        self.by_hash
            .lock()
            .expect("the sessions lock is never poisoned")
            .contains_key(&token_hash(token))
    }
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_token_until_it_ends() {
        let sessions = Sessions::default();
        let token = sessions.open([1; 32]);
        let session = sessions.find(&token).expect("open");
        assert_eq!(session.key_hash, [1; 32]);
        assert_eq!(session.csrf.len(), 64);
        assert!(sessions.find("another").is_none());
        sessions.end(&token);
        assert!(sessions.find(&token).is_none());
    }

    #[test]
    fn only_the_hash_of_a_token_is_kept() {
        let sessions = Sessions::default();
        let token = sessions.open([2; 32]);
        let kept = sessions.by_hash.lock().expect("lock");
        assert!(kept.contains_key(&token_hash(&token)));
        assert!(kept.keys().all(|hash| hex::encode(hash) != token));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
    }
}
