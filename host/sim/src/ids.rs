//! Deterministic identifiers: node keys, channel ids, txids, payment hashes.
//!
//! Invariants:
//! - Every identifier is a pure function of `(seed, domain, index)`; nothing here
//!   reads a clock or an RNG stream, so identifiers never shift when the event
//!   sequence changes.
//! - Node ids are real secp256k1 public keys (compressed, 66 hex), because
//!   cln-rpc parses `peer_id` into a curve point and rejects anything else.

use secp256k1::{PublicKey, Secp256k1, SecretKey, Signing};

/// Separates the identifier families so that, say, channel 3's txid never
/// equals peer 3's key material.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Domain {
    NodeKey = 1,
    ChannelId = 2,
    FundingTxid = 3,
    PaymentHash = 4,
    WalletTxid = 5,
    ScriptPubkey = 6,
    ScratchTxid = 7,
    RebalancePaymentHash = 8,
}

/// SplitMix64's finaliser: a cheap, well-mixed bijection on u64.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 32 pseudo-random bytes for `(seed, domain, index)`.
pub(crate) fn derived_bytes32(seed: u64, domain: Domain, index: u64) -> [u8; 32] {
    let mut state =
        mix64(seed ^ mix64(domain as u64) ^ mix64(index.wrapping_mul(0xA24B_AED4_963E_E407)));
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        state = mix64(state);
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    out
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    s
}

/// 64 hex characters (a txid, channel id or payment hash).
pub(crate) fn hash_hex(seed: u64, domain: Domain, index: u64) -> String {
    to_hex(&derived_bytes32(seed, domain, index))
}

/// Derives node public keys; holds one secp256k1 context for a whole batch
/// because creating a context is far dearer than deriving a key.
pub(crate) struct NodeKeys<C: Signing> {
    secp: Secp256k1<C>,
    seed: u64,
}

impl NodeKeys<secp256k1::SignOnly> {
    pub(crate) fn new(seed: u64) -> Self {
        NodeKeys {
            secp: Secp256k1::signing_only(),
            seed,
        }
    }
}

impl<C: Signing> NodeKeys<C> {
    /// The compressed public key (66 hex) of node `index`.
    pub(crate) fn node_id(&self, index: u64) -> String {
        // A 32-byte string is a valid secret key unless it is zero or >= the
        // group order (probability ~2^-128); step to the next candidate then.
        let mut attempt = 0u64;
        loop {
            let bytes = derived_bytes32(self.seed, Domain::NodeKey, index ^ (attempt << 48));
            if let Ok(secret) = SecretKey::from_slice(&bytes) {
                let public = PublicKey::from_secret_key(&self.secp, &secret);
                return to_hex(&public.serialize());
            }
            attempt += 1;
        }
    }
}

/// The index under which our own node's key is derived (peers use 0..n).
pub(crate) const OUR_NODE_INDEX: u64 = u64::MAX >> 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_are_compressed_keys_and_stable() {
        let keys = NodeKeys::new(7);
        let a = keys.node_id(1);
        assert_eq!(a.len(), 66);
        assert!(a.starts_with("02") || a.starts_with("03"));
        assert_eq!(a, NodeKeys::new(7).node_id(1));
        assert_ne!(a, keys.node_id(2));
        assert_ne!(a, NodeKeys::new(8).node_id(1));
    }

    #[test]
    fn domains_separate_identifiers() {
        assert_ne!(
            hash_hex(1, Domain::ChannelId, 0),
            hash_hex(1, Domain::FundingTxid, 0)
        );
        assert_eq!(hash_hex(1, Domain::ChannelId, 0).len(), 64);
    }
}
