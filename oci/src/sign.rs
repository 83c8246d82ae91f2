//! Artifact signing: ECDSA P-256 key pairs, passphrase-encrypted private keys, and cosign-compatible
//! "simple signing" payloads.
//!
//! # Key files
//!
//! * **Public key** (`ork.pub`): a standard `SubjectPublicKeyInfo` (RFC 5480, `id-ecPublicKey` +
//!   `prime256v1`, uncompressed point) in a PEM block labelled `PUBLIC KEY`. This is the same format as
//!   `cosign.pub` and `openssl ec -pubout`, so cosign, OpenSSL and Python `cryptography` load it as is.
//! * **Private key** (`ork.key`): a PEM block labelled `ENCRYPTED ORK PRIVATE KEY` whose body is the
//!   compact JSON document
//!
//!   ```json
//!   {"kdf":{"name":"pbkdf2-hmac-sha256","iterations":210000,"salt":"<b64>"},
//!    "cipher":{"name":"aes-256-gcm","nonce":"<b64>"},
//!    "ciphertext":"<b64>"}
//!   ```
//!
//!   (base64 is standard with padding). The 32-byte AES-256-GCM key is
//!   `PBKDF2-HMAC-SHA256(passphrase as UTF-8, salt, iterations)`; the salt is 16 random bytes, the nonce
//!   12 random bytes, there is no additional authenticated data, and `ciphertext` is the encrypted
//!   PKCS#8 v1 DER of the P-256 private key followed by the 16-byte GCM tag. A wrong passphrase fails
//!   the GCM tag check.
//!
//! # Signatures
//!
//! Signatures are ASN.1 DER ECDSA P-256 / SHA-256 signatures over the exact payload bytes, which is what
//! cosign stores (base64-encoded) in the [`SIGNATURE_ANNOTATION`] of a layer of media type
//! [`SIMPLE_SIGNING_MEDIA_TYPE`] in the image tagged [`signature_tag`]`(digest)`.

use std::fmt;
use std::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

/// Media type of the layer that carries a cosign simple-signing payload.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// Layer annotation in which cosign stores the base64 of the DER signature over the layer's payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// PEM label of an ork private key file (see the module documentation for the format).
pub const PRIVATE_KEY_PEM_LABEL: &str = "ENCRYPTED ORK PRIVATE KEY";

/// PEM label of a public key file (`SubjectPublicKeyInfo`).
pub const PUBLIC_KEY_PEM_LABEL: &str = "PUBLIC KEY";

/// PBKDF2 iteration count written into newly generated private keys.
pub const KDF_ITERATIONS: u32 = 210_000;

/// The `critical.type` value of a cosign simple-signing payload.
const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";
const KDF_NAME: &str = "pbkdf2-hmac-sha256";
const CIPHER_NAME: &str = "aes-256-gcm";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
/// Bounds accepted when reading a key file: low counts would make the passphrase cheap to guess, huge
/// counts would make loading a hostile key file hang.
const MIN_KDF_ITERATIONS: u32 = 100_000;
const MAX_KDF_ITERATIONS: u32 = 10_000_000;

/// DER prefix of a P-256 `SubjectPublicKeyInfo`: SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 },
/// BIT STRING (0 unused bits) }, followed by the 65-byte uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P256_POINT_LEN: usize = 65;

/// Errors of key handling, signing and verification.
///
/// No message ever contains key material or a passphrase.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The passphrase is empty.
    #[error("the signing passphrase is empty: set ORK_SIGN_PASSPHRASE to a non-empty passphrase")]
    EmptyPassphrase,
    /// The private key could not be decrypted with the given passphrase.
    #[error(
        "cannot decrypt the private key: wrong passphrase, or the key file was modified; check ORK_SIGN_PASSPHRASE and that the file is the one `ork keygen` wrote"
    )]
    WrongPassphrase,
    /// A key file is malformed or of an unsupported kind; the message says what is wrong and how to fix it.
    #[error("invalid key: {0}")]
    BadKey(String),
    /// The signature does not verify against the payload and public key.
    #[error(
        "signature verification failed: the signature does not match the payload for this public key (the artifact changed after signing, or it was signed with a different key)"
    )]
    BadSignature,
    /// A signature is not valid base64.
    #[error("the signature is not valid base64 ({0}); expected the base64 of a DER ECDSA signature as written by `ork push --sign-key` or cosign")]
    BadSignatureEncoding(String),
    /// A simple-signing payload is malformed or not a cosign container image signature.
    #[error("invalid cosign simple-signing payload: {0}")]
    BadPayload(String),
    /// A manifest digest is not of the form `sha256:<64 lowercase hex>`.
    #[error("invalid manifest digest `{0}`: expected `sha256:` followed by 64 lowercase hex characters")]
    BadDigest(String),
    /// The cryptographic library failed (e.g. the system random number generator is unavailable).
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
}

/// A passphrase protecting a private key. Its `Debug` output is `Passphrase(***)`; the memory is
/// overwritten (best effort) when it is dropped.
pub struct Passphrase(String);

impl Passphrase {
    /// Wraps a passphrase. Emptiness is checked where the passphrase is used.
    pub fn new(passphrase: String) -> Self {
        Self(passphrase)
    }

    fn non_empty_bytes(&self) -> Result<&[u8], SignError> {
        if self.0.is_empty() { Err(SignError::EmptyPassphrase) } else { Ok(self.0.as_bytes()) }
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

impl Drop for Passphrase {
    fn drop(&mut self) {
        wipe(std::mem::take(&mut self.0).into_bytes());
    }
}

/// Overwrites a secret buffer before freeing it (best effort: no `unsafe`, no volatile writes).
fn wipe(mut bytes: Vec<u8>) {
    bytes.fill(0);
    std::hint::black_box(&bytes);
}

/// A freshly generated key pair, ready to be written to disk (`ork.key` and `ork.pub`).
///
/// `Debug` shows the public key only.
#[derive(Clone)]
pub struct KeyFiles {
    /// The passphrase-encrypted private key, PEM label `ENCRYPTED ORK PRIVATE KEY`.
    pub private_pem: String,
    /// The public key, PEM label `PUBLIC KEY` (`SubjectPublicKeyInfo`).
    pub public_pem: String,
}

impl fmt::Debug for KeyFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFiles").field("private_pem", &"***").field("public_pem", &self.public_pem).finish()
    }
}

/// Generates an ECDSA P-256 key pair and encrypts the private key with `passphrase`.
///
/// Fails with [`SignError::EmptyPassphrase`] for an empty passphrase. Takes a noticeable fraction of a
/// second: the passphrase is stretched with [`KDF_ITERATIONS`] rounds of PBKDF2.
pub fn generate(passphrase: &Passphrase) -> Result<KeyFiles, SignError> {
    let secret = passphrase.non_empty_bytes()?;
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| SignError::Crypto("cannot generate an ECDSA P-256 key (system random number generator unavailable?)".into()))?;
    let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|e| SignError::Crypto(format!("the generated key was rejected: {e}")))?;
    let public_pem = PublicKey::from_point(key_pair.public_key().as_ref())?.to_pem();
    let private_pem = encrypt_private_key(pkcs8.as_ref(), secret, &rng)?;
    Ok(KeyFiles { private_pem, public_pem })
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EncryptedKey {
    kdf: KdfParams,
    cipher: CipherParams,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfParams {
    name: String,
    iterations: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CipherParams {
    name: String,
    nonce: String,
}

fn derive_key(secret: &[u8], salt: &[u8], iterations: NonZeroU32) -> Result<LessSafeKey, SignError> {
    let mut key = [0u8; 32];
    ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, secret, &mut key);
    let unbound = UnboundKey::new(&AES_256_GCM, &key).map_err(|_| SignError::Crypto("cannot create an AES-256-GCM key".into()));
    key.fill(0);
    std::hint::black_box(&key);
    Ok(LessSafeKey::new(unbound?))
}

fn encrypt_private_key(pkcs8: &[u8], secret: &[u8], rng: &SystemRandom) -> Result<String, SignError> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut salt).and_then(|()| rng.fill(&mut nonce)).map_err(|_| SignError::Crypto("the system random number generator failed".into()))?;
    let iterations = NonZeroU32::new(KDF_ITERATIONS).ok_or_else(|| SignError::Crypto("zero KDF iterations".into()))?;
    let key = derive_key(secret, &salt, iterations)?;
    let mut in_out = pkcs8.to_vec();
    let sealed = key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut in_out);
    if sealed.is_err() {
        wipe(in_out);
        return Err(SignError::Crypto("AES-256-GCM encryption of the private key failed".into()));
    }
    let doc = EncryptedKey {
        kdf: KdfParams { name: KDF_NAME.into(), iterations: KDF_ITERATIONS, salt: B64.encode(salt) },
        cipher: CipherParams { name: CIPHER_NAME.into(), nonce: B64.encode(nonce) },
        ciphertext: B64.encode(&in_out),
    };
    let json = serde_json::to_vec(&doc).map_err(|e| SignError::Crypto(format!("cannot serialise the key file: {e}")))?;
    Ok(pem_encode(PRIVATE_KEY_PEM_LABEL, json))
}

fn pem_encode(label: &str, contents: Vec<u8>) -> String {
    pem::encode_config(&pem::Pem::new(label, contents), pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF))
}

/// Decrypts an `ENCRYPTED ORK PRIVATE KEY` body into PKCS#8 DER. Error messages never echo file content.
fn decrypt_private_key(json: &[u8], secret: &[u8]) -> Result<Vec<u8>, SignError> {
    let doc: EncryptedKey = serde_json::from_slice(json).map_err(|e| {
        SignError::BadKey(format!(
            "the private key file body is not the expected JSON document (line {}, column {}); regenerate it with `ork keygen`",
            e.line(),
            e.column()
        ))
    })?;
    if doc.kdf.name != KDF_NAME {
        return Err(SignError::BadKey(format!("unsupported key derivation `{}`; expected `{KDF_NAME}`", truncate(&doc.kdf.name))));
    }
    if doc.cipher.name != CIPHER_NAME {
        return Err(SignError::BadKey(format!("unsupported cipher `{}`; expected `{CIPHER_NAME}`", truncate(&doc.cipher.name))));
    }
    if !(MIN_KDF_ITERATIONS..=MAX_KDF_ITERATIONS).contains(&doc.kdf.iterations) {
        return Err(SignError::BadKey(format!(
            "KDF iteration count {} is outside the accepted range {MIN_KDF_ITERATIONS}..={MAX_KDF_ITERATIONS}; regenerate the key with `ork keygen`",
            doc.kdf.iterations
        )));
    }
    let iterations = NonZeroU32::new(doc.kdf.iterations).ok_or_else(|| SignError::BadKey("KDF iteration count is zero".into()))?;
    let salt = B64.decode(&doc.kdf.salt).map_err(|_| SignError::BadKey("the KDF salt is not valid base64".into()))?;
    if !(SALT_LEN..=64).contains(&salt.len()) {
        return Err(SignError::BadKey(format!("the KDF salt is {} bytes; expected 16 to 64", salt.len())));
    }
    let nonce = B64.decode(&doc.cipher.nonce).map_err(|_| SignError::BadKey("the cipher nonce is not valid base64".into()))?;
    let nonce =
        Nonce::try_assume_unique_for_key(&nonce).map_err(|_| SignError::BadKey(format!("the cipher nonce is {} bytes; expected {NONCE_LEN}", nonce.len())))?;
    let mut in_out = B64.decode(&doc.ciphertext).map_err(|_| SignError::BadKey("the ciphertext is not valid base64".into()))?;
    let key = derive_key(secret, &salt, iterations)?;
    let plain_len = match key.open_in_place(nonce, Aad::empty(), &mut in_out) {
        Ok(plain) => plain.len(),
        Err(_) => return Err(SignError::WrongPassphrase),
    };
    in_out.truncate(plain_len);
    Ok(in_out)
}

/// A decrypted private signing key. `Debug` shows only the public key fingerprint.
pub struct SigningKey {
    key_pair: EcdsaKeyPair,
    public: PublicKey,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("public_key_sha256", &self.public.fingerprint()).field("private_key", &"***").finish()
    }
}

impl SigningKey {
    /// Loads and decrypts an `ENCRYPTED ORK PRIVATE KEY` PEM (as written by [`generate`]).
    ///
    /// Fails with [`SignError::WrongPassphrase`] when the passphrase does not decrypt the key,
    /// [`SignError::EmptyPassphrase`] for an empty passphrase, and [`SignError::BadKey`] when the file
    /// is not an ork private key.
    pub fn from_pem(private_pem: &str, passphrase: &Passphrase) -> Result<Self, SignError> {
        let secret = passphrase.non_empty_bytes()?;
        // The PEM error is not chained: it could quote bytes of the key file.
        let block = pem::parse(private_pem)
            .map_err(|_| SignError::BadKey("the private key file is not PEM; pass the `ork.key` file written by `ork keygen`".into()))?;
        match block.tag() {
            PRIVATE_KEY_PEM_LABEL => {}
            PUBLIC_KEY_PEM_LABEL => {
                return Err(SignError::BadKey("this is a public key; signing needs the private key file (`ork.key`, PEM `ENCRYPTED ORK PRIVATE KEY`)".into()));
            }
            "ENCRYPTED COSIGN PRIVATE KEY" | "ENCRYPTED SIGSTORE PRIVATE KEY" => {
                return Err(SignError::BadKey(
                    "cosign-encrypted private keys are not supported; create a key pair with `ork keygen` (its `ork.pub` verifies with cosign too)".into(),
                ));
            }
            other => {
                return Err(SignError::BadKey(format!(
                    "unsupported PEM block `{}`; expected `{PRIVATE_KEY_PEM_LABEL}` as written by `ork keygen`",
                    truncate(other)
                )));
            }
        }
        let pkcs8 = decrypt_private_key(block.contents(), secret)?;
        let rng = SystemRandom::new();
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng);
        wipe(pkcs8);
        let key_pair = key_pair
            .map_err(|e| SignError::BadKey(format!("the decrypted private key is not an ECDSA P-256 PKCS#8 key ({e}); regenerate it with `ork keygen`")))?;
        let public = PublicKey::from_point(key_pair.public_key().as_ref())?;
        Ok(Self { key_pair, public, rng })
    }

    /// Signs `payload` with ECDSA P-256 / SHA-256 and returns the ASN.1 DER signature.
    pub fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        let signature = self.key_pair.sign(&self.rng, payload).map_err(|_| SignError::Crypto("ECDSA signing failed".into()))?;
        Ok(signature.as_ref().to_vec())
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The matching public key as a `PUBLIC KEY` PEM (the content of `ork.pub`).
    pub fn public_pem(&self) -> String {
        self.public.to_pem()
    }
}

/// An ECDSA P-256 public key used to verify signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The `SubjectPublicKeyInfo` DER (prefix + uncompressed point).
    spki: Vec<u8>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey").field("sha256", &self.fingerprint()).finish()
    }
}

impl PublicKey {
    fn from_point(point: &[u8]) -> Result<Self, SignError> {
        if point.len() != P256_POINT_LEN || point.first() != Some(&0x04) {
            return Err(SignError::BadKey(format!("expected a 65-byte uncompressed P-256 point, found {} bytes", point.len())));
        }
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(point);
        Ok(Self { spki })
    }

    /// Parses a `PUBLIC KEY` PEM (`SubjectPublicKeyInfo`) holding an ECDSA P-256 key, as written by
    /// `ork keygen`, `cosign generate-key-pair` or `openssl ec -pubout`.
    pub fn from_pem(public_pem: &str) -> Result<Self, SignError> {
        let block =
            pem::parse(public_pem).map_err(|e| SignError::BadKey(format!("the public key file is not PEM ({e}); pass the `ork.pub` / `cosign.pub` file")))?;
        match block.tag() {
            PUBLIC_KEY_PEM_LABEL => Self::from_spki_der(block.contents()),
            tag if tag.contains("PRIVATE KEY") => {
                Err(SignError::BadKey("this is a private key; verification needs the public key file (`ork.pub`, PEM `PUBLIC KEY`)".into()))
            }
            other => Err(SignError::BadKey(format!("unsupported PEM block `{}`; expected `{PUBLIC_KEY_PEM_LABEL}`", truncate(other)))),
        }
    }

    /// Parses a DER `SubjectPublicKeyInfo` holding an ECDSA P-256 key with an uncompressed point.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, SignError> {
        let bad = |what: &str| SignError::BadKey(format!("malformed SubjectPublicKeyInfo: {what}"));
        let (spki, rest) = der_take(der, 0x30).map_err(|e| bad(&e.0))?;
        if !rest.is_empty() {
            return Err(bad("trailing data after the key"));
        }
        let (alg, rest) = der_take(spki, 0x30).map_err(|e| bad(&e.0))?;
        let (bits, rest) = der_take(rest, 0x03).map_err(|e| bad(&e.0))?;
        if !rest.is_empty() {
            return Err(bad("trailing data after the key bits"));
        }
        let (alg_oid, params) = der_take(alg, 0x06).map_err(|e| bad(&e.0))?;
        if alg_oid != OID_EC_PUBLIC_KEY {
            return Err(SignError::BadKey(format!(
                "the key is {}, but only ECDSA P-256 keys are supported; create one with `ork keygen` or `cosign generate-key-pair`",
                describe_oid(alg_oid)
            )));
        }
        let (curve_oid, rest) = der_take(params, 0x06).map_err(|_| bad("the EC parameters are not a named curve"))?;
        if !rest.is_empty() {
            return Err(bad("trailing data after the curve name"));
        }
        if curve_oid != OID_PRIME256V1 {
            return Err(SignError::BadKey(format!(
                "the EC key is on curve {}, but only P-256 (prime256v1) is supported; create one with `ork keygen`",
                describe_oid(curve_oid)
            )));
        }
        let point = match bits.split_first() {
            Some((0, point)) => point,
            _ => return Err(bad("the key bit string has unused bits")),
        };
        match point.first() {
            Some(0x04) if point.len() == P256_POINT_LEN => Self::from_point(point),
            Some(0x02 | 0x03) => Err(SignError::BadKey(
                "compressed EC points are not supported; re-export with `openssl ec -pubin -in KEY -pubout -conv_form uncompressed`".into(),
            )),
            _ => Err(bad("the EC point is not a 65-byte uncompressed P-256 point")),
        }
    }

    /// The `SubjectPublicKeyInfo` DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The key as a `PUBLIC KEY` PEM (LF line endings).
    pub fn to_pem(&self) -> String {
        pem_encode(PUBLIC_KEY_PEM_LABEL, self.spki.clone())
    }

    /// Verifies an ASN.1 DER ECDSA P-256 / SHA-256 `signature_der` over `payload`.
    ///
    /// Fails with [`SignError::BadSignature`] when the signature is malformed or does not match.
    pub fn verify(&self, payload: &[u8], signature_der: &[u8]) -> Result<(), SignError> {
        let point = self.spki.get(P256_SPKI_PREFIX.len()..).unwrap_or_default();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point).verify(payload, signature_der).map_err(|_| SignError::BadSignature)
    }

    /// Lowercase hex SHA-256 of the `SubjectPublicKeyInfo` DER, for display (equal to
    /// `openssl pkey -pubin -outform DER | sha256sum`).
    pub fn fingerprint(&self) -> String {
        hex(ring::digest::digest(&ring::digest::SHA256, &self.spki).as_ref())
    }
}

/// Why a DER element could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct DerError(String);

impl From<&str> for DerError {
    fn from(s: &str) -> DerError {
        DerError(s.to_string())
    }
}

/// Reads one DER element with the expected `tag`; returns (contents, rest).
fn der_take(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), DerError> {
    let (&found, rest) = input.split_first().ok_or("unexpected end of data")?;
    if found != tag {
        return Err(DerError(format!("expected DER tag 0x{tag:02x}, found 0x{found:02x}")));
    }
    let (&first, rest) = rest.split_first().ok_or("unexpected end of data")?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => match rest.split_first() {
            Some((&l, rest)) if l >= 0x80 => (usize::from(l), rest),
            _ => return Err("bad DER length".into()),
        },
        0x82 => match rest {
            [hi, lo, rest @ ..] if *hi != 0 => ((usize::from(*hi) << 8) | usize::from(*lo), rest),
            _ => return Err("bad DER length".into()),
        },
        _ => return Err("unsupported DER length".into()),
    };
    if rest.len() < len {
        return Err("unexpected end of data".into());
    }
    Ok(rest.split_at(len))
}

fn describe_oid(oid: &[u8]) -> String {
    let known = match oid {
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01] => "RSA",
        [0x2b, 0x65, 0x70] => "Ed25519",
        [0x2b, 0x65, 0x71] => "Ed448",
        [0x2b, 0x81, 0x04, 0x00, 0x22] => "secp384r1 (P-384)",
        [0x2b, 0x81, 0x04, 0x00, 0x23] => "secp521r1 (P-521)",
        [0x2b, 0x81, 0x04, 0x00, 0x0a] => "secp256k1",
        _ => return format!("OID {}", hex(oid)),
    };
    known.to_string()
}

/// Lowercase hex of `bytes` (digests, fingerprints).
pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Shortens untrusted text quoted in an error message.
fn truncate(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX { s.to_string() } else { format!("{}…", s.chars().take(MAX).collect::<String>()) }
}

/// Encodes a DER signature as the standard base64 stored in [`SIGNATURE_ANNOTATION`].
pub fn encode_signature(signature_der: &[u8]) -> String {
    B64.encode(signature_der)
}

/// Decodes the base64 signature of a [`SIGNATURE_ANNOTATION`] (surrounding whitespace ignored).
pub fn decode_signature(signature_b64: &str) -> Result<Vec<u8>, SignError> {
    B64.decode(signature_b64.trim()).map_err(|e| SignError::BadSignatureEncoding(e.to_string()))
}

/// The identity and digest signed by a cosign simple-signing payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// `critical.identity.docker-reference`: the repository the image was signed for (e.g. `registry.example/team/app`).
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: the signed manifest digest (`sha256:<hex>`).
    pub manifest_digest: String,
}

/// Builds cosign's simple-signing payload, byte for byte as cosign writes it:
/// `{"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":DIGEST},"type":"cosign container image signature"},"optional":null}`.
///
/// cosign uses the repository without tag or digest as `docker_reference`.
pub fn simple_signing_payload(docker_reference: &str, manifest_digest: &str) -> Vec<u8> {
    // `Value`'s Display is infallible and escapes exactly like serde_json's serializer.
    let reference = serde_json::Value::String(docker_reference.to_string());
    let digest = serde_json::Value::String(manifest_digest.to_string());
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":{reference}}},"image":{{"docker-manifest-digest":{digest}}},"type":"{SIMPLE_SIGNING_TYPE}"}},"optional":null}}"#
    )
    .into_bytes()
}

#[derive(Deserialize)]
struct SimpleSigning {
    critical: Critical,
}

#[derive(Deserialize)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// Parses a cosign simple-signing payload (the `optional` section is ignored).
///
/// Fails with [`SignError::BadPayload`] when the JSON does not have the simple-signing shape or its
/// `critical.type` is not `cosign container image signature`, and with [`SignError::BadDigest`] when the
/// digest is not `sha256:<64 hex>`.
pub fn parse_payload(bytes: &[u8]) -> Result<Payload, SignError> {
    let doc: SimpleSigning = serde_json::from_slice(bytes).map_err(|e| SignError::BadPayload(e.to_string()))?;
    if doc.critical.kind != SIMPLE_SIGNING_TYPE {
        return Err(SignError::BadPayload(format!("`critical.type` is `{}`, expected `{SIMPLE_SIGNING_TYPE}`", truncate(&doc.critical.kind))));
    }
    sha256_hex(&doc.critical.image.docker_manifest_digest)?;
    Ok(Payload { docker_reference: doc.critical.identity.docker_reference, manifest_digest: doc.critical.image.docker_manifest_digest })
}

/// Returns the hex part of a `sha256:<64 lowercase hex>` digest.
fn sha256_hex(digest: &str) -> Result<&str, SignError> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => Ok(hex),
        _ => Err(SignError::BadDigest(truncate(digest))),
    }
}

/// The tag under which cosign stores the signature of `manifest_digest`: `sha256:<hex>` → `sha256-<hex>.sig`.
///
/// Fails with [`SignError::BadDigest`] unless the digest is `sha256:` followed by 64 lowercase hex characters.
pub fn signature_tag(manifest_digest: &str) -> Result<String, SignError> {
    Ok(format!("sha256-{}.sig", sha256_hex(manifest_digest)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;
    use std::time::Instant;

    const PASS: &str = "correct horse battery staple";
    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn pass() -> Passphrase {
        Passphrase::new(PASS.to_string())
    }

    /// One generated key shared by the tests (PBKDF2 is deliberately slow).
    fn keys() -> &'static KeyFiles {
        static KEYS: OnceLock<KeyFiles> = OnceLock::new();
        KEYS.get_or_init(|| generate(&pass()).unwrap())
    }

    #[test]
    fn round_trip_and_timing() {
        let t = Instant::now();
        let files = generate(&pass()).unwrap();
        let gen_time = t.elapsed();
        let t = Instant::now();
        let key = SigningKey::from_pem(&files.private_pem, &pass()).unwrap();
        let load_time = t.elapsed();
        assert!(gen_time.as_secs_f64() < 2.0, "generate took {gen_time:?}");
        assert!(load_time.as_secs_f64() < 2.0, "from_pem took {load_time:?}");
        assert_eq!(key.public_pem(), files.public_pem);
        let payload = simple_signing_payload("registry.example/team/app", DIGEST);
        let sig = key.sign(&payload).unwrap();
        let public = PublicKey::from_pem(&files.public_pem).unwrap();
        public.verify(&payload, &sig).unwrap();
        let sig2 = decode_signature(&encode_signature(&sig)).unwrap();
        public.verify(&payload, &sig2).unwrap();
        assert!(files.private_pem.starts_with("-----BEGIN ENCRYPTED ORK PRIVATE KEY-----\n"));
        assert!(files.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    }

    #[test]
    fn private_key_body_is_the_documented_json() {
        let block = pem::parse(&keys().private_pem).unwrap();
        let v: serde_json::Value = serde_json::from_slice(block.contents()).unwrap();
        assert_eq!(v["kdf"]["name"], "pbkdf2-hmac-sha256");
        assert_eq!(v["kdf"]["iterations"], KDF_ITERATIONS);
        assert_eq!(B64.decode(v["kdf"]["salt"].as_str().unwrap()).unwrap().len(), 16);
        assert_eq!(v["cipher"]["name"], "aes-256-gcm");
        assert_eq!(B64.decode(v["cipher"]["nonce"].as_str().unwrap()).unwrap().len(), 12);
        assert!(B64.decode(v["ciphertext"].as_str().unwrap()).unwrap().len() > 100);
    }

    #[test]
    fn wrong_passphrase() {
        let err = SigningKey::from_pem(&keys().private_pem, &Passphrase::new("not it".into())).unwrap_err();
        assert!(matches!(err, SignError::WrongPassphrase), "{err:?}");
        assert!(!err.to_string().contains("not it"));
    }

    #[test]
    fn empty_passphrase_refused() {
        assert!(matches!(generate(&Passphrase::new(String::new())), Err(SignError::EmptyPassphrase)));
        assert!(matches!(SigningKey::from_pem(&keys().private_pem, &Passphrase::new(String::new())), Err(SignError::EmptyPassphrase)));
    }

    #[test]
    fn tampered_key_file_fails_closed() {
        let block = pem::parse(&keys().private_pem).unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(block.contents()).unwrap();
        let mut ct = B64.decode(v["ciphertext"].as_str().unwrap()).unwrap();
        ct[10] ^= 1;
        v["ciphertext"] = B64.encode(&ct).into();
        let pem_text = pem_encode(PRIVATE_KEY_PEM_LABEL, serde_json::to_vec(&v).unwrap());
        assert!(matches!(SigningKey::from_pem(&pem_text, &pass()), Err(SignError::WrongPassphrase)));

        v["kdf"]["iterations"] = 1.into();
        let pem_text = pem_encode(PRIVATE_KEY_PEM_LABEL, serde_json::to_vec(&v).unwrap());
        assert!(matches!(SigningKey::from_pem(&pem_text, &pass()), Err(SignError::BadKey(_))));

        let err = SigningKey::from_pem(&keys().public_pem, &pass()).unwrap_err();
        assert!(err.to_string().contains("public key"), "{err}");
        let err = SigningKey::from_pem("garbage", &pass()).unwrap_err();
        assert!(matches!(err, SignError::BadKey(_)));
    }

    #[test]
    fn tampered_payload_is_rejected() {
        let key = SigningKey::from_pem(&keys().private_pem, &pass()).unwrap();
        let payload = simple_signing_payload("registry.example/team/app", DIGEST);
        let sig = key.sign(&payload).unwrap();
        let mut tampered = payload.clone();
        tampered[20] ^= 1;
        assert!(matches!(key.public_key().verify(&tampered, &sig), Err(SignError::BadSignature)));
        let mut bad_sig = sig.clone();
        let last = bad_sig.len() - 1;
        bad_sig[last] ^= 1;
        assert!(matches!(key.public_key().verify(&payload, &bad_sig), Err(SignError::BadSignature)));
        assert!(matches!(key.public_key().verify(&payload, b""), Err(SignError::BadSignature)));
        assert!(matches!(decode_signature("not base64!"), Err(SignError::BadSignatureEncoding(_))));
    }

    #[test]
    fn different_key_is_rejected() {
        let other = generate(&Passphrase::new("other".into())).unwrap();
        let key = SigningKey::from_pem(&keys().private_pem, &pass()).unwrap();
        let payload = simple_signing_payload("r/a", DIGEST);
        let sig = key.sign(&payload).unwrap();
        let other_pub = PublicKey::from_pem(&other.public_pem).unwrap();
        assert_ne!(other_pub.fingerprint(), key.public_key().fingerprint());
        assert!(matches!(other_pub.verify(&payload, &sig), Err(SignError::BadSignature)));
    }

    #[test]
    fn public_pem_parses_back() {
        let public = PublicKey::from_pem(&keys().public_pem).unwrap();
        assert_eq!(public.to_pem(), keys().public_pem);
        assert_eq!(public.spki_der().len(), 91);
        assert_eq!(public.fingerprint().len(), 64);
        // CRLF and surrounding text are accepted.
        let crlf = format!("comment\r\n{}", keys().public_pem.replace('\n', "\r\n"));
        assert_eq!(PublicKey::from_pem(&crlf).unwrap(), public);
    }

    #[test]
    fn foreign_public_keys() {
        // `openssl ec -pubout` of a P-256 key, and `openssl dgst -sha256 -sign` of "hello ork" (fixed vectors).
        let openssl = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEg8rL0oC1WZ9LO/hXgtLvcMv6lNu\nLSMpomxMer7T1i0PpMicW2ZsONXxvb0mAqaLCXXAZ/gXpkea1H2XY5pU+w==\n-----END PUBLIC KEY-----\n";
        let sig = "MEYCIQC+N+ti5pCrox2ToaulgMzzCwPjlGsHr1fbPakeNubQIAIhAIQW3xhrjlMcIyJ61LTcO5o5FcR3sO84pYIx7xkx2CxS";
        let public = PublicKey::from_pem(openssl).unwrap();
        public.verify(b"hello ork", &decode_signature(sig).unwrap()).unwrap();
        assert!(matches!(public.verify(b"hello orc", &decode_signature(sig).unwrap()), Err(SignError::BadSignature)));
        assert_eq!(public.to_pem(), openssl);
        // Same key, compressed point.
        let compressed =
            "-----BEGIN PUBLIC KEY-----\nMDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADEg8rL0oC1WZ9LO/hXgtLvcMv6lNu\nLSMpomxMer7T1i0=\n-----END PUBLIC KEY-----\n";
        let err = PublicKey::from_pem(compressed).unwrap_err();
        assert!(err.to_string().contains("compressed"), "{err}");
        // Ed25519 and P-384 SPKIs.
        let ed = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA97rTLtVRm09w2LfPYjnep9xt4/NTcFRYZ7FGHQlMnD4=\n-----END PUBLIC KEY-----\n";
        let err = PublicKey::from_pem(ed).unwrap_err();
        assert!(err.to_string().contains("Ed25519"), "{err}");
        let p384 = "-----BEGIN PUBLIC KEY-----\nMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEn+2bo8yrDA08h/51cwp+YlF+lFx5sH1V\nk3bdrrDcNqxK7C5ctIZ06LZP1p1bZzgGfS5NyYE9FzfwZReHlW2HN2TdOs/gw5QS\nj9dJn6D15JBGNZ1mFX1i75gUGRYYk2ce\n-----END PUBLIC KEY-----\n";
        let err = PublicKey::from_pem(p384).unwrap_err();
        assert!(err.to_string().contains("P-384"), "{err}");
        let err = PublicKey::from_pem(&keys().private_pem).unwrap_err();
        assert!(err.to_string().contains("private key"), "{err}");
        // Truncated DER.
        let der = &PublicKey::from_pem(&keys().public_pem).unwrap().spki_der()[..50].to_vec();
        assert!(matches!(PublicKey::from_spki_der(der), Err(SignError::BadKey(_))));
    }

    #[test]
    fn payload_shape_is_byte_exact() {
        let payload = simple_signing_payload("127.0.0.1:5000/team/hello-website", DIGEST);
        let expected = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"127.0.0.1:5000/team/hello-website"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        assert_eq!(String::from_utf8(payload.clone()).unwrap(), expected);
        let parsed = parse_payload(&payload).unwrap();
        assert_eq!(parsed, Payload { docker_reference: "127.0.0.1:5000/team/hello-website".into(), manifest_digest: DIGEST.into() });
        // Quotes are escaped, not injected.
        let odd = simple_signing_payload("a\"b", DIGEST);
        assert_eq!(parse_payload(&odd).unwrap().docker_reference, "a\"b");
    }

    #[test]
    fn parse_payload_rejects_wrong_shapes() {
        let wrong_type = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"something else"}},"optional":null}}"#
        );
        assert!(matches!(parse_payload(wrong_type.as_bytes()), Err(SignError::BadPayload(_))));
        assert!(matches!(parse_payload(b"{}"), Err(SignError::BadPayload(_))));
        assert!(matches!(parse_payload(b"not json"), Err(SignError::BadPayload(_))));
        let bad_digest = simple_signing_payload("r", "sha256:abc");
        assert!(matches!(parse_payload(&bad_digest), Err(SignError::BadDigest(_))));
        // cosign puts annotations in `optional`; they are accepted.
        let with_optional = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"}},"optional":{{"creator":"x"}}}}"#
        );
        assert_eq!(parse_payload(with_optional.as_bytes()).unwrap().manifest_digest, DIGEST);
    }

    #[test]
    fn signature_tags() {
        assert_eq!(signature_tag(DIGEST).unwrap(), format!("sha256-{}.sig", &DIGEST[7..]));
        for bad in [
            "sha256:abc",
            "sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
            "",
            "sha256:",
        ] {
            assert!(matches!(signature_tag(bad), Err(SignError::BadDigest(_))), "{bad}");
        }
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let p = pass();
        let shown = format!("{p:?}");
        assert_eq!(shown, "Passphrase(***)");
        assert!(!shown.contains(PASS));

        let files = keys();
        let body: String = files.private_pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let shown = format!("{files:?} {files:#?}");
        assert!(!shown.contains(&body));
        for line in files.private_pem.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!shown.contains(line), "private PEM line leaked: {line}");
        }
        assert!(shown.contains("***"));

        let key = SigningKey::from_pem(&files.private_pem, &p).unwrap();
        let shown = format!("{key:?} {key:#?}");
        assert!(!shown.contains(PASS));
        assert!(!shown.contains(&body));
        assert!(shown.contains("***"));

        // Error messages never carry the passphrase.
        let err = SigningKey::from_pem(&files.private_pem, &Passphrase::new("hunter2-secret".into())).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2-secret"));
    }
}
