use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use catalog_domain::ports::Random;
use rand::{Rng, RngCore};

/// Letters and digits that cannot be mistaken for one another (no 0/O/o, 1/l/I/i).
pub const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";

/// The operating system's CSPRNG, through `rand`'s thread-local generator (ChaCha,
/// reseeded from the OS).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl OsRandom {
    /// `bytes` random bytes as lowercase hex (file names, where case may not matter).
    pub fn token_hex(&self, bytes: usize) -> String {
        let mut buf = vec![0_u8; bytes];
        rand::rng().fill_bytes(&mut buf);
        buf.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Random for OsRandom {
    fn token(&self, bytes: usize) -> String {
        let mut buf = vec![0_u8; bytes];
        rand::rng().fill_bytes(&mut buf);
        URL_SAFE_NO_PAD.encode(buf)
    }

    fn password(&self, len: usize) -> String {
        let mut rng = rand::rng();
        (0..len)
            .map(|_| char::from(PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn tokens_carry_the_requested_entropy_and_never_repeat() {
        let tokens: HashSet<String> = (0..1000).map(|_| OsRandom.token(32)).collect();
        assert_eq!(tokens.len(), 1000);
        assert!(
            tokens.iter().all(|t| t.len() == 43),
            "32 bytes in unpadded base64"
        );
    }

    #[test]
    fn passwords_avoid_look_alike_characters() {
        let pw = OsRandom.password(16);
        assert_eq!(pw.chars().count(), 16);
        for _ in 0..200 {
            let pw = OsRandom.password(16);
            assert!(!pw.contains(['0', 'O', 'o', '1', 'l', 'I', 'i']), "{pw}");
        }
    }
}
