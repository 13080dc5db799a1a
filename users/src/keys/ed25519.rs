//! Ed25519 keys in their PKCS#8 / SPKI encodings and as JWKs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use ring::signature::KeyPair;
use sha2::{Digest, Sha256};

/// PKCS#8 v1 header of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// The algorithm identifier and seed wrapper shared by PKCS#8 v1 and v2.
const PKCS8_ALGORITHM_AND_SEED: [u8; 11] = [
    0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// SPKI header of an Ed25519 public key; the 32-byte key follows.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A private key that signs access tokens.
#[derive(Clone)]
pub struct SigningKey {
    seed: [u8; 32],
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.public.kid())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<SigningKey, String> {
        let rng = ring::rand::SystemRandom::new();
        let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| "cannot generate an Ed25519 key".to_string())?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// From a PKCS#8 (v1 or v2) DER document.
    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, String> {
        let seed: [u8; 32] = der
            .get(5..16)
            .filter(|alg| *alg == PKCS8_ALGORITHM_AND_SEED)
            .and_then(|_| der.get(16..48))
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| "not an Ed25519 PKCS#8 private key".to_string())?;
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|_| "not a usable Ed25519 private key".to_string())?;
        let public = PublicKey::from_raw(pair.public_key().as_ref())?;
        Ok(SigningKey { seed, public })
    }

    /// The PKCS#8 v1 DER document (what `openssl genpkey` writes).
    pub fn pkcs8_der(&self) -> Vec<u8> {
        let mut der = PKCS8_V1_PREFIX.to_vec();
        der.extend_from_slice(&self.seed);
        der
    }

    /// The PEM (`PRIVATE KEY`) form.
    pub fn to_pem(&self) -> String {
        to_pem("PRIVATE KEY", self.pkcs8_der())
    }

    /// For signing with jsonwebtoken.
    pub fn encoding_key(&self) -> jsonwebtoken::EncodingKey {
        jsonwebtoken::EncodingKey::from_ed_der(&self.pkcs8_der())
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

/// A public key published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    raw: [u8; 32],
    kid: String,
}

impl PublicKey {
    /// From the 32 raw key bytes.
    pub fn from_raw(raw: &[u8]) -> Result<PublicKey, String> {
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| "an Ed25519 public key has 32 bytes".to_string())?;
        let x = URL_SAFE_NO_PAD.encode(raw);
        // RFC 7638: members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Ok(PublicKey { raw, kid })
    }

    /// From an SPKI DER document (`PUBLIC KEY` PEM block).
    pub fn from_spki(der: &[u8]) -> Result<PublicKey, String> {
        match der.split_at_checked(SPKI_PREFIX.len()) {
            Some((prefix, raw)) if prefix == SPKI_PREFIX => Self::from_raw(raw),
            _ => Err("not an Ed25519 public key".to_string()),
        }
    }

    /// The SPKI PEM (`PUBLIC KEY`) form.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.raw);
        to_pem("PUBLIC KEY", der)
    }

    /// The key id: the key's RFC 7638 thumbprint.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK: `kty=OKP`, `crv=Ed25519`, `alg=EdDSA`, `use=sig`, `kid`.
    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(self.raw),
            }),
        }
    }
}

/// A PEM block with Unix line endings (the `pem` crate's default is CRLF).
fn to_pem(label: &str, der: Vec<u8>) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_round_trips_and_v2_is_accepted() {
        let key = SigningKey::generate().expect("key");
        let again = SigningKey::from_pkcs8(&key.pkcs8_der()).expect("v1");
        assert_eq!(again.public_key(), key.public_key());
        let rng = ring::rand::SystemRandom::new();
        let v2 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("v2");
        assert!(SigningKey::from_pkcs8(v2.as_ref()).is_ok());
        assert!(SigningKey::from_pkcs8(&[0; 48]).is_err());
    }

    #[test]
    fn spki_round_trips() {
        let key = SigningKey::generate().expect("key");
        let pem = key.public_key().to_pem();
        let block = pem::parse(&pem).expect("pem");
        assert_eq!(block.tag(), "PUBLIC KEY");
        let public = PublicKey::from_spki(block.contents()).expect("spki");
        assert_eq!(&public, key.public_key());
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // RFC 8037 appendix A.3.
        let raw = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .expect("b64");
        let key = PublicKey::from_raw(&raw).expect("raw");
        assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }
}
