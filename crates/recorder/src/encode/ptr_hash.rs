//! A hasher for maps keyed by object addresses (type objects, classes):
//! the address put through the SplitMix64 finaliser (two multiplications),
//! so aligned addresses spread over the low bits a table indexes by and
//! the high bits it tags entries with. Addresses are not chosen by an
//! adversary, so SipHash's protection buys nothing here and costs a visible
//! share of every lookup.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` keyed by an object's address.
pub type AddressMap<V> = HashMap<usize, V, BuildHasherDefault<AddressHasher>>;

/// Hashes one `usize` (an address); see the module documentation.
#[derive(Debug, Default, Clone, Copy)]
pub struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        let mut x = address as u64 ^ self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.0 = x ^ (x >> 31);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, BuildHasherDefault};

    use super::AddressHasher;

    #[test]
    fn aligned_addresses_spread_over_low_and_high_bits() {
        let build = BuildHasherDefault::<AddressHasher>::default();
        for stride in [16usize, 48, 4096] {
            let hashes: Vec<u64> = (0..64usize)
                .map(|i| build.hash_one(0x7f00_0000_0000 + i * stride))
                .collect();
            let low: HashSet<u64> = hashes.iter().map(|h| h & 127).collect();
            let high: HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
            // 64 random draws from 128 values give about 50 distinct ones.
            assert!(low.len() >= 40, "stride {stride}: {} low values", low.len());
            assert!(
                high.len() >= 40,
                "stride {stride}: {} high values",
                high.len()
            );
        }
    }
}
