//! jsonwebtoken's signature checks done by `ring`.
//!
//! jsonwebtoken 10+ leaves its crypto to a backend: RustCrypto (RSA, P-256, P-384, Ed25519
//! code of its own) or aws-lc-rs (a large C library). `ring` is already in the binary for
//! TLS, so verifying with it adds no crypto code to the Lambda zip. Only the two algorithms
//! the API accepts are provided, and only verification: the function never signs a token.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};

/// The provider: RS256 and ES256 verification, nothing else.
static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes `ring` jsonwebtoken's backend for this process (idempotent). Called before any token
/// is decoded: without a backend jsonwebtoken panics.
pub fn install() {
    // Err means a provider is already installed: ours, by an earlier call.
    let _ = PROVIDER.install_default();
}

fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    let key = match (algorithm, key.kind()) {
        (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, e }) => RingKey::Rsa {
            n: n.clone(),
            e: e.clone(),
        },
        (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) => RingKey::P256(point.clone()),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(Box::new(RingVerifier {
        algorithm: *algorithm,
        key,
    }))
}

enum RingKey {
    /// An RSA public key's modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed P-256 point (`04 || x || y`).
    P256(Vec<u8>),
}

struct RingVerifier {
    algorithm: Algorithm,
    key: RingKey,
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), signature::Error> {
        let verified = match &self.key {
            RingKey::Rsa { n, e } => RsaPublicKeyComponents { n, e }.verify(
                &RSA_PKCS1_2048_8192_SHA256,
                message,
                signature,
            ),
            RingKey::P256(point) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, signature)
            }
        };
        verified.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    /// RFC 7515, appendix A.2: an RS256 JWS and its public key (public test data).
    const RFC7515_A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
    const RFC7515_A2_E: &str = "AQAB";
    const RFC7515_A2_INPUT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    const RFC7515_A2_SIG: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    #[test]
    fn rs256_verifies_the_rfc_example_and_refuses_a_changed_message() {
        let key = DecodingKey::from_rsa_components(RFC7515_A2_N, RFC7515_A2_E).unwrap();
        let verifier = verifier(&Algorithm::RS256, &key).unwrap();
        let signature = b64(RFC7515_A2_SIG);
        assert!(
            verifier
                .verify(RFC7515_A2_INPUT.as_bytes(), &signature)
                .is_ok()
        );
        let changed = RFC7515_A2_INPUT.replace("eyJp", "eyJq");
        assert!(verifier.verify(changed.as_bytes(), &signature).is_err());
    }

    #[test]
    fn only_rs256_and_es256_with_their_own_key_kinds() {
        let rsa = DecodingKey::from_rsa_components(RFC7515_A2_N, RFC7515_A2_E).unwrap();
        assert!(verifier(&Algorithm::ES256, &rsa).is_err());
        assert!(verifier(&Algorithm::RS512, &rsa).is_err());
        let secret = DecodingKey::from_secret(b"public key bytes");
        assert!(verifier(&Algorithm::HS256, &secret).is_err());
        assert!(no_signer(&Algorithm::RS256, &EncodingKey::from_secret(b"k")).is_err());
    }
}
