//! Request ids in the format Toxiproxy's `X-Toxiproxy-Request-Id` uses (an
//! `xid`): 4 bytes of Unix seconds, 3 of machine id, 2 of process id and a
//! 3-byte counter, written as 20 lower-case base32hex characters.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// The next request id.
pub(crate) fn next() -> String {
    static MACHINE: OnceLock<[u8; 3]> = OnceLock::new();
    static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
    let machine = MACHINE.get_or_init(rand::random);
    let counter = COUNTER
        .get_or_init(|| AtomicU32::new(rand::random()))
        .fetch_add(1, Ordering::Relaxed);
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    let pid = std::process::id() as u16;
    let mut id = [0u8; 12];
    id[..4].copy_from_slice(&seconds.to_be_bytes());
    id[4..7].copy_from_slice(machine);
    id[7..9].copy_from_slice(&pid.to_be_bytes());
    id[9..].copy_from_slice(&counter.to_be_bytes()[1..]);
    encode(&id)
}

/// Base32hex without padding: 5 bits per character, most significant first.
fn encode(bytes: &[u8; 12]) -> String {
    let mut out = String::with_capacity(20);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_twenty_base32hex_characters_and_ids_differ() {
        // xid's own example: the id of bytes 4d88e15b60f486e428412dc9.
        let id = [
            0x4d, 0x88, 0xe1, 0x5b, 0x60, 0xf4, 0x86, 0xe4, 0x28, 0x41, 0x2d, 0xc9,
        ];
        assert_eq!(encode(&id), "9m4e2mr0ui3e8a215n4g");
        let (a, b) = (next(), next());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)), "{a}");
    }
}
