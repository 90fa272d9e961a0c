//! Canton's key and algorithm specifications, with their config strings, display names and proto numbers.
//!
//! The config strings are the ones a Canton configuration uses (`ec-p-256`, `ed-25519`,
//! `ecies-hkdf-hmac-sha-256-aes-128-cbc`, …) and are tresor's canonical identifiers in every language.
//! Parsing also accepts Canton's display names (`EC-P256`, `Ed25519`, …), case-insensitively.
//! Proto numbers are those of `com.digitalasset.canton.crypto.v30` (after the 2025-09 renumbering of
//! `EncryptionAlgorithmSpec`: CBC = 1, RSA = 2).

use core::fmt;
use core::str::FromStr;

use crate::error::{Error, ErrorKind, Result};

macro_rules! spec_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => ($config:literal, $display:literal, $proto:expr) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every member, in proto order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The config string (Canton's HOCON name, tresor's canonical identifier).
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $config, )+ }
            }

            /// Canton's display name (what `toString` prints in Canton).
            pub const fn canton_name(self) -> &'static str {
                match self { $( $name::$variant => $display, )+ }
            }

            /// The number in Canton's v30 protobuf enum, if the member has one.
            pub const fn proto(self) -> Option<u32> {
                match self { $( $name::$variant => $proto, )+ }
            }

            /// The member for a v30 proto number.
            pub fn from_proto(n: u32) -> Result<Self> {
                Self::ALL.iter().copied().find(|s| s.proto() == Some(n)).ok_or_else(|| {
                    Error::new(
                        ErrorKind::UnknownScheme,
                        format!("unknown {} proto value {n}", $what),
                    )
                })
            }

            /// The accepted config strings, comma-separated (for error messages and help texts).
            pub fn accepted() -> String {
                Self::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self> {
                let t = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(t) || v.canton_name().eq_ignore_ascii_case(t))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::UnknownScheme,
                            format!("unknown {} '{}'; accepted: {}", $what, s.escape_debug(), Self::accepted()),
                        )
                    })
            }
        }
    };
}

spec_enum! {
    /// Key specification of a signing key (Canton `SigningKeySpec`).
    SigningKeySpec, "signing key spec" {
        /// Ed25519 keys (Curve25519 in Edwards form).
        EcCurve25519 => ("ec-curve-25519", "EC-Curve25519", Some(1)),
        /// NIST P-256 (secp256r1).
        EcP256 => ("ec-p-256", "EC-P256", Some(2)),
        /// NIST P-384 (secp384r1).
        EcP384 => ("ec-p-384", "EC-P384", Some(3)),
        /// SECG secp256k1.
        EcSecp256k1 => ("ec-secp-256k-1", "EC-Secp256k1", Some(4)),
    }
}

spec_enum! {
    /// Signing algorithm (Canton `SigningAlgorithmSpec`).
    SigningAlgorithmSpec, "signing algorithm" {
        /// EdDSA over Curve25519 with SHA-512 (RFC 8032), signature = raw 64 bytes.
        Ed25519 => ("ed-25519", "Ed25519", Some(1)),
        /// ECDSA with SHA-256 (P-256 or secp256k1), signature = DER.
        EcDsaSha256 => ("ec-dsa-sha-256", "EC-DSA-SHA256", Some(2)),
        /// ECDSA with SHA-384 (P-384), signature = DER.
        EcDsaSha384 => ("ec-dsa-sha-384", "EC-DSA-SHA384", Some(3)),
    }
}

spec_enum! {
    /// Key specification of an asymmetric encryption key (Canton `EncryptionKeySpec`).
    EncryptionKeySpec, "encryption key spec" {
        /// NIST P-256, for ECIES.
        EcP256 => ("ec-p-256", "EC-P256", Some(1)),
        /// RSA with a 2048-bit modulus, for OAEP.
        Rsa2048 => ("rsa-2048", "RSA-2048", Some(2)),
    }
}

spec_enum! {
    /// Asymmetric encryption algorithm (Canton `EncryptionAlgorithmSpec`).
    EncryptionAlgorithmSpec, "encryption algorithm" {
        /// Canton's current ECIES: BouncyCastle `ECIESwithSHA256andAES-CBC` as Canton parameterises it
        /// (KDF2-SHA256, AES-128-CBC/PKCS7, HMAC-SHA256). Despite the name, no HKDF is involved.
        EciesHkdfHmacSha256Aes128Cbc => ("ecies-hkdf-hmac-sha-256-aes-128-cbc", "ECIES_HMAC256_AES128-CBC", Some(1)),
        /// RSA-OAEP with SHA-256 and MGF1-SHA-256, empty label.
        RsaOaepSha256 => ("rsa-oaep-sha-256", "RSA-OAEP-SHA256", Some(2)),
        /// Legacy ECIES with HKDF-SHA256 and AES-128-GCM (Tink's hybrid format), for data written by older
        /// Canton versions. It has no number in the current proto (it was 1 before the renumbering).
        EciesHkdfHmacSha256Aes128Gcm => ("ecies-hkdf-hmac-sha-256-aes-128-gcm", "ECIES_HMAC256_AES128-GCM", None),
    }
}

spec_enum! {
    /// Signature encoding (Canton `SignatureFormat`).
    SignatureFormat, "signature format" {
        /// ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` (ECDSA).
        Der => ("der", "DER", Some(2)),
        /// Concatenation `R ‖ S` as RFC 8032 defines it (Ed25519).
        Concat => ("concat", "Concat", Some(3)),
    }
}

spec_enum! {
    /// Symmetric key scheme (Canton `SymmetricKeyScheme`).
    SymmetricKeyScheme, "symmetric key scheme" {
        /// AES-128-GCM, wire format `IV(12) ‖ ciphertext ‖ tag(16)`, no associated data.
        Aes128Gcm => ("aes-128-gcm", "AES128-GCM", Some(1)),
    }
}

impl SigningAlgorithmSpec {
    /// The key specs this algorithm may be used with.
    pub const fn supported_key_specs(self) -> &'static [SigningKeySpec] {
        match self {
            Self::Ed25519 => &[SigningKeySpec::EcCurve25519],
            Self::EcDsaSha256 => &[SigningKeySpec::EcP256, SigningKeySpec::EcSecp256k1],
            Self::EcDsaSha384 => &[SigningKeySpec::EcP384],
        }
    }

    /// The signature format this algorithm produces.
    pub const fn signature_format(self) -> SignatureFormat {
        match self {
            Self::Ed25519 => SignatureFormat::Concat,
            Self::EcDsaSha256 | Self::EcDsaSha384 => SignatureFormat::Der,
        }
    }

    /// Check that `key` may be used with this algorithm.
    pub fn check_key_spec(self, key: SigningKeySpec) -> Result<()> {
        if self.supported_key_specs().contains(&key) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::IncompatibleKey,
                format!(
                    "signing algorithm {self} cannot be used with a {key} key (it needs {})",
                    join(self.supported_key_specs())
                ),
            ))
        }
    }
}

impl SigningKeySpec {
    /// The algorithm to use with a key of this spec: `requested`, checked against the spec
    /// ([`ErrorKind::IncompatibleKey`] when it does not fit), or the spec's default.
    pub fn algorithm(
        self,
        requested: Option<SigningAlgorithmSpec>,
    ) -> Result<SigningAlgorithmSpec> {
        let algo = requested.unwrap_or(self.default_algorithm());
        algo.check_key_spec(self)?;
        Ok(algo)
    }

    /// The algorithm Canton uses by default with keys of this spec.
    pub const fn default_algorithm(self) -> SigningAlgorithmSpec {
        match self {
            Self::EcCurve25519 => SigningAlgorithmSpec::Ed25519,
            Self::EcP256 | Self::EcSecp256k1 => SigningAlgorithmSpec::EcDsaSha256,
            Self::EcP384 => SigningAlgorithmSpec::EcDsaSha384,
        }
    }
}

impl EncryptionAlgorithmSpec {
    /// The key specs this algorithm may be used with.
    pub const fn supported_key_specs(self) -> &'static [EncryptionKeySpec] {
        match self {
            Self::EciesHkdfHmacSha256Aes128Cbc | Self::EciesHkdfHmacSha256Aes128Gcm => {
                &[EncryptionKeySpec::EcP256]
            }
            Self::RsaOaepSha256 => &[EncryptionKeySpec::Rsa2048],
        }
    }

    /// Check that `key` may be used with this algorithm.
    pub fn check_key_spec(self, key: EncryptionKeySpec) -> Result<()> {
        if self.supported_key_specs().contains(&key) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::IncompatibleKey,
                format!(
                    "encryption algorithm {self} cannot be used with a {key} key (it needs {})",
                    join(self.supported_key_specs())
                ),
            ))
        }
    }
}

impl EncryptionKeySpec {
    /// The algorithm to use with a key of this spec: `requested`, checked against the spec
    /// ([`ErrorKind::IncompatibleKey`] when it does not fit), or the spec's default.
    pub fn algorithm(
        self,
        requested: Option<EncryptionAlgorithmSpec>,
    ) -> Result<EncryptionAlgorithmSpec> {
        let algo = requested.unwrap_or(self.default_algorithm());
        algo.check_key_spec(self)?;
        Ok(algo)
    }

    /// The algorithm Canton uses by default with keys of this spec.
    pub const fn default_algorithm(self) -> EncryptionAlgorithmSpec {
        match self {
            Self::EcP256 => EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc,
            Self::Rsa2048 => EncryptionAlgorithmSpec::RsaOaepSha256,
        }
    }
}

/// What a key is for (Canton's `KeyPurpose`), numbered as Canton numbers it in its stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    /// A signing key.
    Signing = 0,
    /// An asymmetric encryption (decryption) key.
    Encryption = 1,
}

impl Purpose {
    /// The name used in tables, JSON and every binding: `signing` or `encryption`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Signing => "signing",
            Self::Encryption => "encryption",
        }
    }

    /// `a signing key` / `an encryption key`, for messages.
    pub const fn a_key(self) -> &'static str {
        match self {
            Self::Signing => "a signing key",
            Self::Encryption => "an encryption key",
        }
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Purpose {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "signing" => Ok(Self::Signing),
            "encryption" => Ok(Self::Encryption),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "unknown key purpose '{}'; accepted: signing, encryption",
                    s.escape_debug()
                ),
            )),
        }
    }
}

/// The spec of an asymmetric key: a signing or an encryption key spec (its purpose follows from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeySpec {
    /// A signing key of this spec.
    Signing(SigningKeySpec),
    /// An encryption key of this spec.
    Encryption(EncryptionKeySpec),
}

impl KeySpec {
    /// Signing or encryption.
    pub const fn purpose(self) -> Purpose {
        match self {
            Self::Signing(_) => Purpose::Signing,
            Self::Encryption(_) => Purpose::Encryption,
        }
    }

    /// The config string of the spec (`ec-p-256`, `rsa-2048`, …; the same string for a P-256 signing
    /// and a P-256 encryption key).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Signing(s) => s.as_str(),
            Self::Encryption(s) => s.as_str(),
        }
    }

    /// The signing key spec, if this is one.
    pub const fn signing(self) -> Option<SigningKeySpec> {
        match self {
            Self::Signing(s) => Some(s),
            Self::Encryption(_) => None,
        }
    }

    /// The encryption key spec, if this is one.
    pub const fn encryption(self) -> Option<EncryptionKeySpec> {
        match self {
            Self::Encryption(s) => Some(s),
            Self::Signing(_) => None,
        }
    }

    /// Parse the config string of a key spec of `purpose`.
    pub fn parse(purpose: Purpose, s: &str) -> Result<Self> {
        Ok(match purpose {
            Purpose::Signing => Self::Signing(s.parse()?),
            Purpose::Encryption => Self::Encryption(s.parse()?),
        })
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<SigningKeySpec> for KeySpec {
    fn from(s: SigningKeySpec) -> Self {
        Self::Signing(s)
    }
}

impl From<EncryptionKeySpec> for KeySpec {
    fn from(s: EncryptionKeySpec) -> Self {
        Self::Encryption(s)
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_strings_round_trip() {
        for s in SigningKeySpec::ALL {
            assert_eq!(s.as_str().parse::<SigningKeySpec>().ok(), Some(*s));
            assert_eq!(s.canton_name().parse::<SigningKeySpec>().ok(), Some(*s));
            assert_eq!(
                SigningKeySpec::from_proto(s.proto().unwrap_or(0)).ok(),
                Some(*s)
            );
        }
        for s in SigningAlgorithmSpec::ALL {
            assert_eq!(s.as_str().parse::<SigningAlgorithmSpec>().ok(), Some(*s));
        }
        for s in EncryptionKeySpec::ALL {
            assert_eq!(s.as_str().parse::<EncryptionKeySpec>().ok(), Some(*s));
        }
        for s in EncryptionAlgorithmSpec::ALL {
            assert_eq!(s.as_str().parse::<EncryptionAlgorithmSpec>().ok(), Some(*s));
        }
    }

    #[test]
    fn canton_config_strings_and_numbers() {
        assert_eq!(SigningKeySpec::EcSecp256k1.as_str(), "ec-secp-256k-1");
        assert_eq!(SigningKeySpec::EcCurve25519.proto(), Some(1));
        assert_eq!(SigningAlgorithmSpec::EcDsaSha384.proto(), Some(3));
        assert_eq!(
            EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc.proto(),
            Some(1)
        );
        assert_eq!(EncryptionAlgorithmSpec::RsaOaepSha256.proto(), Some(2));
        assert_eq!(
            EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm.proto(),
            None
        );
        assert_eq!(SignatureFormat::Der.proto(), Some(2));
        assert_eq!(SignatureFormat::Concat.proto(), Some(3));
    }

    #[test]
    fn unknown_string_lists_accepted() {
        let e = "ec-p-512"
            .parse::<SigningKeySpec>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("unknown signing key spec 'ec-p-512'"), "{e}");
        assert!(
            e.contains("ec-curve-25519, ec-p-256, ec-p-384, ec-secp-256k-1"),
            "{e}"
        );
        assert!(SigningAlgorithmSpec::from_proto(0).is_err());
    }

    #[test]
    fn pairing_rules() {
        use SigningAlgorithmSpec as A;
        use SigningKeySpec as K;
        assert!(A::Ed25519.check_key_spec(K::EcCurve25519).is_ok());
        assert!(A::EcDsaSha256.check_key_spec(K::EcSecp256k1).is_ok());
        assert!(A::EcDsaSha256.check_key_spec(K::EcP384).is_err());
        assert!(A::EcDsaSha384.check_key_spec(K::EcP256).is_err());
        assert!(
            EncryptionAlgorithmSpec::RsaOaepSha256
                .check_key_spec(EncryptionKeySpec::EcP256)
                .is_err()
        );
        for k in K::ALL {
            assert!(k.default_algorithm().check_key_spec(*k).is_ok());
            assert_eq!(k.algorithm(None).ok(), Some(k.default_algorithm()));
        }
        let e = K::EcP256.algorithm(Some(A::EcDsaSha384)).err();
        assert_eq!(e.map(|e| e.kind()), Some(ErrorKind::IncompatibleKey));
        assert_eq!(
            KeySpec::parse(Purpose::Encryption, "rsa-2048").ok(),
            Some(KeySpec::Encryption(EncryptionKeySpec::Rsa2048))
        );
        assert!(KeySpec::parse(Purpose::Signing, "rsa-2048").is_err());
        assert_eq!("Signing".parse::<Purpose>().ok(), Some(Purpose::Signing));
    }
}
