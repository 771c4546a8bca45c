//! Lower-case hex, as SHA-256 digests are written for people and in work-directory
//! markers.

use std::fmt::Write;

/// `bytes` as lower-case hex.
pub fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A 32-byte digest from 64 hex characters (either case), or `None`.
pub fn decode_32(text: &str) -> Option<[u8; 32]> {
    decode_array(text)
}

/// `N` bytes from `2 * N` hex characters (either case), or `None`.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N.checked_mul(2)? || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let digest = [0xab; 32];
        assert_eq!(encode(&digest), "ab".repeat(32));
        assert_eq!(decode_32(&"AB".repeat(32)), Some(digest));
        assert_eq!(decode_32("abc"), None);
        assert_eq!(decode_32(&"zz".repeat(32)), None);
        assert_eq!(decode_32(&"é".repeat(32)), None);
    }
}
