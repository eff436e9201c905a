//! DingTalk signatures: `base64(HmacSHA256(secret, timestamp + "\n" + secret))` for webhooks and callbacks.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a callback timestamp may lie from now, either way. A skew of exactly one hour is accepted.
pub const MAX_SKEW_MS: i64 = 60 * 60 * 1000;

/// Why an inbound callback's `timestamp` and `sign` headers were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The `timestamp` header is missing or empty.
    #[error("missing timestamp header")]
    MissingTimestamp,
    /// The `timestamp` header is not a whole number of milliseconds.
    #[error("timestamp header is not a number of milliseconds")]
    BadTimestamp,
    /// The timestamp is more than an hour away from now (`skew_ms` = timestamp − now).
    #[error("timestamp is {skew_ms} ms from now, more than an hour")]
    StaleTimestamp { skew_ms: i64 },
    /// The `sign` header is missing or empty.
    #[error("missing sign header")]
    MissingSign,
    /// The `sign` header does not match the app secret and timestamp.
    #[error("sign does not match")]
    BadSignature,
}

/// `base64(HmacSHA256(key = secret, msg = timestamp_ms + "\n" + secret))`, not URL-encoded.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    sign_timestamp(secret, &timestamp_ms.to_string())
}

/// The `sign` query parameter of a custom-robot webhook URL: [`sign`], percent-encoded once.
pub fn webhook_sign_param(secret: &str, timestamp_ms: i64) -> String {
    utf8_percent_encode(&sign(secret, timestamp_ms), NON_ALPHANUMERIC).to_string()
}

/// Checks the `timestamp` and `sign` headers of an inbound robot callback at `now_ms`.
///
/// The timestamp must lie within [`MAX_SKEW_MS`] of `now_ms` (boundary included); the signature
/// is computed over the header text as sent and compared in constant time.
pub fn verify_callback(
    app_secret: &str,
    timestamp_header: &str,
    sign_header: &str,
    now_ms: i64,
) -> Result<(), SignError> {
    check_timestamp(timestamp_header, now_ms)?;
    if sign_header.is_empty() {
        return Err(SignError::MissingSign);
    }
    let expected = sign_timestamp(app_secret, timestamp_header);
    if bool::from(expected.as_bytes().ct_eq(sign_header.as_bytes())) {
        Ok(())
    } else {
        Err(SignError::BadSignature)
    }
}

fn check_timestamp(timestamp_header: &str, now_ms: i64) -> Result<(), SignError> {
    if timestamp_header.is_empty() {
        return Err(SignError::MissingTimestamp);
    }
    let timestamp: i64 = timestamp_header
        .parse()
        .map_err(|_| SignError::BadTimestamp)?;
    if timestamp.abs_diff(now_ms) > MAX_SKEW_MS.unsigned_abs() {
        return Err(SignError::StaleTimestamp {
            skew_ms: timestamp.saturating_sub(now_ms),
        });
    }
    Ok(())
}

fn sign_timestamp(secret: &str, timestamp: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(secret.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from shared/platforms/dingtalk.md (DingtalkChatbot 1.5.7).
    const WEBHOOK_SECRET: &str = "SEC0123456789abcdef";
    const APP_SECRET: &str = "test-app-secret";
    const T0: i64 = 1_700_000_000_000;
    const INBOUND_SIGN: &str = "dhJB8TJ0cHPEbwpUauugV2Wz8v4qlWoO+C42nEhJW+c=";

    #[test]
    fn outbound_webhook_vectors() {
        for (timestamp, base64, param) in [
            (
                T0,
                "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=",
                "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D",
            ),
            (
                T0 + 1,
                "h9I8htdbvJCasKF0f8Gu+a2Cr5fjl9T+pzb6hx3n+pE=",
                "h9I8htdbvJCasKF0f8Gu%2Ba2Cr5fjl9T%2Bpzb6hx3n%2BpE%3D",
            ),
        ] {
            assert_eq!(sign(WEBHOOK_SECRET, timestamp), base64, "{timestamp}");
            assert_eq!(
                webhook_sign_param(WEBHOOK_SECRET, timestamp),
                param,
                "{timestamp}"
            );
        }
    }

    #[test]
    fn inbound_callback_vector() {
        assert_eq!(sign(APP_SECRET, T0), INBOUND_SIGN);
        for now in [T0, T0 - 5_000, T0 + 5_000] {
            assert_eq!(
                verify_callback(APP_SECRET, "1700000000000", INBOUND_SIGN, now),
                Ok(()),
                "{now}"
            );
        }
    }

    #[test]
    fn one_hour_either_way_is_the_inclusive_limit() {
        for (now, expected) in [
            (T0 + MAX_SKEW_MS, Ok(())),
            (T0 - MAX_SKEW_MS, Ok(())),
            (
                T0 + MAX_SKEW_MS + 1,
                Err(SignError::StaleTimestamp {
                    skew_ms: -MAX_SKEW_MS - 1,
                }),
            ),
            (
                T0 - MAX_SKEW_MS - 1,
                Err(SignError::StaleTimestamp {
                    skew_ms: MAX_SKEW_MS + 1,
                }),
            ),
            (0, Err(SignError::StaleTimestamp { skew_ms: T0 })),
            (
                i64::MIN,
                Err(SignError::StaleTimestamp { skew_ms: i64::MAX }),
            ),
        ] {
            assert_eq!(
                verify_callback(APP_SECRET, "1700000000000", INBOUND_SIGN, now),
                expected,
                "{now}"
            );
        }
    }

    #[test]
    fn bad_headers_are_refused() {
        let one_off = "dhJB8TJ0cHPEbwpUauugV2Wz8v4qlWoO+C42nEhJW+d=";
        let url_encoded = "dhJB8TJ0cHPEbwpUauugV2Wz8v4qlWoO%2BC42nEhJW%2Bc%3D";
        for (name, timestamp, sign, expected) in [
            (
                "empty timestamp",
                "",
                INBOUND_SIGN,
                SignError::MissingTimestamp,
            ),
            ("both empty", "", "", SignError::MissingTimestamp),
            ("empty sign", "1700000000000", "", SignError::MissingSign),
            (
                "seconds, not ms",
                "1700000000",
                INBOUND_SIGN,
                SignError::StaleTimestamp {
                    skew_ms: 1_700_000_000 - T0,
                },
            ),
            (
                "not a number",
                "17000000000x0",
                INBOUND_SIGN,
                SignError::BadTimestamp,
            ),
            (
                "padded",
                " 1700000000000",
                INBOUND_SIGN,
                SignError::BadTimestamp,
            ),
            (
                "too large",
                "99999999999999999999",
                INBOUND_SIGN,
                SignError::BadTimestamp,
            ),
            (
                "one character off",
                "1700000000000",
                one_off,
                SignError::BadSignature,
            ),
            (
                "url-encoded sign",
                "1700000000000",
                url_encoded,
                SignError::BadSignature,
            ),
            (
                "truncated sign",
                "1700000000000",
                &INBOUND_SIGN[..43],
                SignError::BadSignature,
            ),
            (
                "other timestamp",
                "1700000000001",
                INBOUND_SIGN,
                SignError::BadSignature,
            ),
            (
                "timestamp written differently",
                "+1700000000000",
                INBOUND_SIGN,
                SignError::BadSignature,
            ),
        ] {
            assert_eq!(
                verify_callback(APP_SECRET, timestamp, sign, T0),
                Err(expected),
                "{name}"
            );
        }
    }

    #[test]
    fn the_app_secret_matters() {
        assert_eq!(
            verify_callback("other-secret", "1700000000000", INBOUND_SIGN, T0),
            Err(SignError::BadSignature)
        );
    }
}
