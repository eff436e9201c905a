//! WeCom callback crypto: the SHA-1 message signature and the AES-256-CBC envelope of callback bodies.
//!
//! The envelope is `base64(AES-256-CBC(key, iv = key[..16], pad32(random16 ‖ u32 BE len ‖ msg ‖ receiveid)))`
//! where `pad32` is PKCS#7 to 32-byte blocks (pad bytes 1..=32), as in Tencent's WXBizMsgCrypt samples
//! and wechatpy. The intelligent robot uses the receive id `""`; apps use the corp id.
//!
//! The ciphertext is not authenticated: check the signature with [`WecomCrypto::verify`] before
//! calling [`WecomCrypto::decrypt`], so that nobody without the token can probe the padding check.

use std::fmt;

use aes::Aes256;
use aes::cipher::{Array, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

type Aes256CbcEnc = cbc::Encryptor<Aes256>;
type Aes256CbcDec = cbc::Decryptor<Aes256>;

/// Length of an EncodingAESKey (base64 of 32 bytes without its trailing `=`).
const ENCODING_AES_KEY_LEN: usize = 43;
/// WeCom pads the plaintext with PKCS#7 to 32-byte blocks, not to the 16-byte AES block.
const PAD_BLOCK: usize = 32;
const AES_BLOCK: usize = 16;
const PREFIX_LEN: usize = 16;
const LEN_FIELD: usize = 4;
const HEADER_LEN: usize = PREFIX_LEN + LEN_FIELD;

/// Decodes EncodingAESKey + "=": WeCom keys are 43 random alphanumerics, so the last character
/// usually carries non-zero trailing bits, which a strict decoder rejects (Python ignores them).
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Why a key could not be used, a signature was refused or a ciphertext could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 base64 characters that decode to 32 bytes.
    #[error("EncodingAESKey must be 43 base64 characters decoding to 32 bytes")]
    InvalidKey,
    /// The msg_signature does not match token, timestamp, nonce and ciphertext.
    #[error("message signature does not match")]
    BadSignature,
    /// The ciphertext is not valid base64.
    #[error("ciphertext is not valid base64")]
    Base64,
    /// The decoded ciphertext is empty or not a whole number of 16-byte AES blocks.
    #[error("ciphertext length {0} is not a positive multiple of 16")]
    CiphertextLength(usize),
    /// The PKCS#7 padding (to 32-byte blocks) is malformed: wrong key or tampered ciphertext.
    #[error("malformed padding")]
    BadPadding,
    /// The plaintext is too short to hold the random prefix and the length field.
    #[error("decrypted data of {0} bytes is shorter than the 20-byte header")]
    TooShort(usize),
    /// The length field claims more message bytes than there are.
    #[error("length field {len} exceeds the {available} bytes that follow it")]
    LengthTooLarge { len: usize, available: usize },
    /// The receive id after the message is not the expected one.
    #[error("receive id does not match")]
    ReceiveIdMismatch,
    /// The message is not valid UTF-8.
    #[error("message is not valid UTF-8")]
    NotUtf8,
}

/// Signs, encrypts and decrypts WeCom callbacks for one token and EncodingAESKey.
#[derive(Clone)]
pub struct WecomCrypto {
    token: String,
    key: [u8; 32],
}

impl fmt::Debug for WecomCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WecomCrypto { .. }")
    }
}

impl WecomCrypto {
    /// Builds the crypto from the callback token and the 43-character EncodingAESKey.
    pub fn new(token: &str, encoding_aes_key: &str) -> Result<Self, CryptoError> {
        Ok(WecomCrypto {
            token: token.to_string(),
            key: decode_key(encoding_aes_key)?,
        })
    }

    /// The msg_signature of a callback: lowercase hex SHA-1 of the four strings sorted and joined.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        let mut sha = Sha1::new();
        for part in parts {
            sha.update(part.as_bytes());
        }
        to_hex(&sha.finalize())
    }

    /// Checks a msg_signature in constant time.
    pub fn verify(
        &self,
        signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<(), CryptoError> {
        let expected = self.signature(timestamp, nonce, encrypt);
        if bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }

    /// Opens a base64 ciphertext and returns the message, checking that it was sent to `receive_id`.
    pub fn decrypt(&self, encrypt_b64: &str, receive_id: &str) -> Result<String, CryptoError> {
        let mut data = STANDARD
            .decode(encrypt_b64)
            .map_err(|_| CryptoError::Base64)?;
        if data.is_empty() || data.len() % AES_BLOCK != 0 {
            return Err(CryptoError::CiphertextLength(data.len()));
        }
        let (blocks, _) = Array::slice_as_chunks_mut(&mut data);
        self.decryptor().decrypt_blocks(blocks);
        let plain = unpad(&data)?;
        let (message, id) = split_plaintext(plain)?;
        if id != receive_id.as_bytes() {
            return Err(CryptoError::ReceiveIdMismatch);
        }
        String::from_utf8(message.to_vec()).map_err(|_| CryptoError::NotUtf8)
    }

    /// Encrypts `plaintext` for `receive_id` with the given 16-byte random prefix (for tests and vectors).
    ///
    /// # Panics
    /// If `plaintext` is 4 GiB or longer, which the u32 length field cannot express.
    pub fn encrypt_with_prefix(
        &self,
        plaintext: &str,
        receive_id: &str,
        prefix: [u8; 16],
    ) -> String {
        let mut data = pad(assemble(plaintext, receive_id, prefix));
        let (blocks, _) = Array::slice_as_chunks_mut(&mut data);
        self.encryptor().encrypt_blocks(blocks);
        STANDARD.encode(data)
    }

    /// Encrypts `plaintext` for `receive_id` with a fresh random prefix.
    ///
    /// # Panics
    /// If the operating system's random number generator fails, or as [`Self::encrypt_with_prefix`].
    pub fn encrypt(&self, plaintext: &str, receive_id: &str) -> String {
        let mut prefix = [0u8; PREFIX_LEN];
        getrandom::fill(&mut prefix).expect("the OS random number generator failed");
        self.encrypt_with_prefix(plaintext, receive_id, prefix)
    }

    /// The passive encrypted reply of the intelligent robot (receive id `""`):
    /// `{"encrypt","msgsignature","timestamp","nonce"}` with `nonce` taken from the callback URL.
    pub fn encrypted_reply(
        &self,
        plaintext_json: &str,
        timestamp: i64,
        nonce: &str,
    ) -> serde_json::Value {
        self.reply_for(self.encrypt(plaintext_json, ""), timestamp, nonce)
    }

    /// [`Self::encrypted_reply`] with a fixed random prefix (for tests and vectors).
    pub fn encrypted_reply_with_prefix(
        &self,
        plaintext_json: &str,
        timestamp: i64,
        nonce: &str,
        prefix: [u8; 16],
    ) -> serde_json::Value {
        let encrypt = self.encrypt_with_prefix(plaintext_json, "", prefix);
        self.reply_for(encrypt, timestamp, nonce)
    }

    fn reply_for(&self, encrypt: String, timestamp: i64, nonce: &str) -> serde_json::Value {
        let msgsignature = self.signature(&timestamp.to_string(), nonce, &encrypt);
        serde_json::json!({
            "encrypt": encrypt,
            "msgsignature": msgsignature,
            "timestamp": timestamp,
            "nonce": nonce,
        })
    }

    fn encryptor(&self) -> Aes256CbcEnc {
        Aes256CbcEnc::new(&self.key.into(), &self.iv().into())
    }

    fn decryptor(&self) -> Aes256CbcDec {
        Aes256CbcDec::new(&self.key.into(), &self.iv().into())
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }
}

fn decode_key(encoding_aes_key: &str) -> Result<[u8; 32], CryptoError> {
    if encoding_aes_key.len() != ENCODING_AES_KEY_LEN {
        return Err(CryptoError::InvalidKey);
    }
    let bytes = KEY_ENGINE
        .decode(format!("{encoding_aes_key}="))
        .map_err(|_| CryptoError::InvalidKey)?;
    bytes.try_into().map_err(|_| CryptoError::InvalidKey)
}

/// random16 ‖ u32 BE len(msg) ‖ msg ‖ receiveid, before padding.
fn assemble(plaintext: &str, receive_id: &str, prefix: [u8; 16]) -> Vec<u8> {
    let len = u32::try_from(plaintext.len()).expect("a WeCom message must be shorter than 4 GiB");
    let mut data = Vec::with_capacity(HEADER_LEN + plaintext.len() + receive_id.len() + PAD_BLOCK);
    data.extend_from_slice(&prefix);
    data.extend_from_slice(&len.to_be_bytes());
    data.extend_from_slice(plaintext.as_bytes());
    data.extend_from_slice(receive_id.as_bytes());
    data
}

/// PKCS#7 to 32-byte blocks: always adds 1..=32 bytes, each equal to their count.
fn pad(mut data: Vec<u8>) -> Vec<u8> {
    let n = PAD_BLOCK - data.len() % PAD_BLOCK;
    data.resize(data.len() + n, n as u8);
    data
}

fn unpad(data: &[u8]) -> Result<&[u8], CryptoError> {
    let n = usize::from(*data.last().ok_or(CryptoError::BadPadding)?);
    if !(1..=PAD_BLOCK).contains(&n) || n > data.len() {
        return Err(CryptoError::BadPadding);
    }
    let (body, padding) = data.split_at(data.len() - n);
    if padding.iter().all(|&b| usize::from(b) == n) {
        Ok(body)
    } else {
        Err(CryptoError::BadPadding)
    }
}

/// Splits unpadded plaintext into (message, receive id), skipping the random prefix.
fn split_plaintext(plain: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    if plain.len() < HEADER_LEN {
        return Err(CryptoError::TooShort(plain.len()));
    }
    let (header, rest) = plain.split_at(HEADER_LEN);
    let field: [u8; LEN_FIELD] = header[PREFIX_LEN..]
        .try_into()
        .map_err(|_| CryptoError::TooShort(plain.len()))?;
    let len = u32::from_be_bytes(field) as usize;
    if len > rest.len() {
        return Err(CryptoError::LengthTooLarge {
            len,
            available: rest.len(),
        });
    }
    Ok(rest.split_at(len))
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    // Token, key and corp id of Tencent's official sample; vectors from wechatpy 1.8.18 (see
    // shared/platforms/wecom.md).
    const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
    const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
    const CORP_ID: &str = "ww1436e0e65a779aee";
    const PREFIX: [u8; 16] = *b"aaaabbbbccccdddd";
    const TIMESTAMP: &str = "1476422779";
    const NONCE: &str = "1597212914";

    const XML_B: &str = "<xml><ToUserName><![CDATA[zhangsan]]></ToUserName><FromUserName><![CDATA[ww1436e0e65a779aee]]></FromUserName><CreateTime>1476422779</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>";
    const ENCRYPT_B: &str = "RBkZDeI8jqj0PZbWAaXjNVLP7wga8y7kOGP3H23HJ05hh5Byuhe2jmDbLqZ+a+AZdGM2brk6hxLCtXpaR1woyZ6P2UCtG9E1VWeGAJbJnOulQOv1NLiUOVwhPnSVuAKQjak+FZCRoH9yB+PDsLlvYIQMLqQ03G9sB+0NRmsja+n2fW6N3NYcIMWBAJevJj2/VaxHUDCDfTWDJR0mKKh94JFc9GjDkjqN+Hz1uDCjtkJuSn+vhfnEl+sluRpqpKCT2+3poWAdCr8oLwENILxU+EEVer81u9KgMV1srGpOPfBEIZL/0irPz78TCV/iW5crh6RAw/cCdBWSicIkHMS1SMhStW4ELF568/iUBiZEmb7bt9FQMEn3RgQNymM5ovSt";
    const JSON_C: &str = r#"{"msgid":"MSGID1","aibotid":"AIBOTID","chatid":"CHATID","chattype":"group","from":{"userid":"zhangsan"},"response_url":"https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=RC","msgtype":"text","text":{"content":"@RobotA 合同违约金上限?"}}"#;
    const ENCRYPT_C: &str = "RBkZDeI8jqj0PZbWAaXjNU++CmPTljxSD2WWhle40BAAvUSsFxt8MnGiE/Ouzb1cG00MHUAaOkJh5s6AI5Tfiq8gqwWlN0g6TxVYuA8LhGTpSaovrfhXsc009Ix5JrjuKM2PpOoAu5jNDAfl4yY76OD/+kQQu3KtYod2gJz8mP73OvrPlNp8q8jVb1g7h9Sx9VXHKI40yvyrHn8zGp9j2L5cScDkt7s8avLaW6Lujuq0XOXeqhYvC+0R3nWZmQEnDq8orkRVVV/96NjMdx+rgs2v7CXQYdDd2TW9DeXa85xQdefSzERZCMRFALDSHxqAAe6reyl2qpKvLbYiGEtcBgJsAWJjxf/CgIOv0lmzIhzvjLsLi2ApEhlMAP5USW4v";
    const ECHO_PLAIN: &str = "1616140317555161061";
    const ECHO_ENCRYPT: &str =
        "RBkZDeI8jqj0PZbWAaXjNXHaKRFuSCNJcyYRbzx01ZFlD8Qd4Db8oVDvsfbHfs0bmxuerIjXlbF4g8i/S33tvQ==";
    const STREAM_D: &str = r#"{"msgtype":"stream","stream":{"id":"STREAMID1","finish":true,"content":"**结论**：依法可调整。"}}"#;
    const REPLY_D: &str = r#"{"encrypt":"RBkZDeI8jqj0PZbWAaXjNQgMdZPfK4YKT7dgDxdU7kEO7ATbYzPIdxd+u67/HxXMInABLVl6UXDRqlZtUFxAlkrt5D/FkKIfKjQclwAHonMKYv4zlKAIvs1WxdieAuo0e0SagE1CtMxQ1A+9++tSwFnaDYGXZyYPLVN20ynyxkQ=","msgsignature":"a4f4db3a412564d609988a8e5c38217b80efac35","timestamp":1476422779,"nonce":"1597212914"}"#;

    fn crypto() -> WecomCrypto {
        WecomCrypto::new(TOKEN, KEY).expect("the official sample key is valid")
    }

    /// Decodes, changes one byte, and encodes again.
    fn flip_byte(encrypt: &str, index_from_end: usize) -> String {
        let mut raw = STANDARD.decode(encrypt).unwrap();
        let i = raw.len() - index_from_end;
        raw[i] ^= 0x01;
        STANDARD.encode(raw)
    }

    #[test]
    fn a1_official_url_verification() {
        let c = crypto();
        let echostr = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==";
        let signature = "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb";
        assert_eq!(c.signature("1476416373", "47744683", echostr), signature);
        assert_eq!(
            c.verify(signature, "1476416373", "47744683", echostr),
            Ok(())
        );
        assert_eq!(
            c.decrypt(echostr, CORP_ID).as_deref(),
            Ok("1288432023552776189")
        );
    }

    #[test]
    fn vectors_encrypt_sign_and_decrypt_back() {
        let c = crypto();
        for (name, plaintext, receive_id, encrypt, signature) in [
            (
                "B",
                XML_B,
                CORP_ID,
                ENCRYPT_B,
                "8dcad3e18f37a8852c0ecf1884cb00d0ea6f349b",
            ),
            (
                "C",
                JSON_C,
                "",
                ENCRYPT_C,
                "4bfa0c97b6e7becb8a9dc28466b2c005ce56a95b",
            ),
            (
                "echostr",
                ECHO_PLAIN,
                "",
                ECHO_ENCRYPT,
                "920724b95b51e40f8bdc3111b8ac07ad8fb9443e",
            ),
        ] {
            assert_eq!(
                c.encrypt_with_prefix(plaintext, receive_id, PREFIX),
                encrypt,
                "{name}"
            );
            assert_eq!(c.signature(TIMESTAMP, NONCE, encrypt), signature, "{name}");
            assert_eq!(
                c.verify(signature, TIMESTAMP, NONCE, encrypt),
                Ok(()),
                "{name}"
            );
            assert_eq!(
                c.decrypt(encrypt, receive_id).as_deref(),
                Ok(plaintext),
                "{name}"
            );
        }
    }

    #[test]
    fn d_encrypted_stream_reply() {
        let reply = crypto().encrypted_reply_with_prefix(STREAM_D, 1476422779, NONCE, PREFIX);
        let expected: serde_json::Value = serde_json::from_str(REPLY_D).unwrap();
        assert_eq!(reply, expected);
        assert!(reply["timestamp"].is_i64());
    }

    #[test]
    fn random_prefix_round_trips_and_differs() {
        let c = crypto();
        let text = "合同违约金上限?".repeat(200);
        let one = c.encrypt(&text, "");
        let two = c.encrypt(&text, "");
        assert_ne!(one, two);
        assert_eq!(c.decrypt(&one, "").as_deref(), Ok(text.as_str()));
        let reply = c.encrypted_reply(STREAM_D, 1, "n");
        let encrypt = reply["encrypt"].as_str().unwrap();
        let signature = reply["msgsignature"].as_str().unwrap();
        assert_eq!(c.verify(signature, "1", "n", encrypt), Ok(()));
        assert_eq!(c.decrypt(encrypt, "").as_deref(), Ok(STREAM_D));
    }

    #[test]
    fn every_padding_length_round_trips() {
        let c = crypto();
        for len in 0..=2 * PAD_BLOCK {
            let text = "x".repeat(len);
            let encrypt = c.encrypt_with_prefix(&text, "", PREFIX);
            assert_eq!(
                c.decrypt(&encrypt, "").as_deref(),
                Ok(text.as_str()),
                "{len}"
            );
        }
    }

    #[test]
    fn malformed_ciphertexts_give_their_own_error() {
        let c = crypto();
        let empty_message = c.encrypt_with_prefix("", "", PREFIX);
        let non_utf8 = {
            // A valid envelope around the bytes FF FE, built by hand.
            let mut data = pad([&PREFIX[..], &2u32.to_be_bytes(), &[0xff, 0xfe]].concat());
            let (blocks, _) = Array::slice_as_chunks_mut(&mut data);
            c.encryptor().encrypt_blocks(blocks);
            STANDARD.encode(data)
        };
        let huge_length = {
            let mut data = pad([&PREFIX[..], &1000u32.to_be_bytes(), b"abc"].concat());
            let (blocks, _) = Array::slice_as_chunks_mut(&mut data);
            c.encryptor().encrypt_blocks(blocks);
            STANDARD.encode(data)
        };
        for (name, encrypt, receive_id, expected) in [
            (
                "truncated base64",
                ENCRYPT_C.get(..ENCRYPT_C.len() - 3).unwrap(),
                "",
                CryptoError::Base64,
            ),
            ("not base64", "****", "", CryptoError::Base64),
            ("empty", "", "", CryptoError::CiphertextLength(0)),
            (
                "half a block",
                &STANDARD.encode([0u8; 8]),
                "",
                CryptoError::CiphertextLength(8),
            ),
            (
                "not whole blocks",
                &STANDARD.encode([0u8; 40]),
                "",
                CryptoError::CiphertextLength(40),
            ),
            // Garbles the whole last plaintext block.
            (
                "flipped last byte",
                &flip_byte(ENCRYPT_C, 1),
                "",
                CryptoError::BadPadding,
            ),
            (
                "flipped byte in last block",
                &flip_byte(ENCRYPT_C, 5),
                "",
                CryptoError::BadPadding,
            ),
            // Turns the last pad byte from 10 into 11 and leaves the rest intact.
            (
                "flipped pad byte",
                &flip_byte(ENCRYPT_C, 17),
                "",
                CryptoError::BadPadding,
            ),
            (
                "wrong receive id",
                ENCRYPT_C,
                CORP_ID,
                CryptoError::ReceiveIdMismatch,
            ),
            (
                "corp id expected, none sent",
                ECHO_ENCRYPT,
                CORP_ID,
                CryptoError::ReceiveIdMismatch,
            ),
            (
                "none expected, corp id sent",
                ENCRYPT_B,
                "",
                CryptoError::ReceiveIdMismatch,
            ),
            (
                "length field too large",
                &huge_length,
                "",
                CryptoError::LengthTooLarge {
                    len: 1000,
                    available: 3,
                },
            ),
            ("not UTF-8", &non_utf8, "", CryptoError::NotUtf8),
        ] {
            assert_eq!(c.decrypt(encrypt, receive_id), Err(expected), "{name}");
        }
        assert_eq!(c.decrypt(&empty_message, "").as_deref(), Ok(""));
    }

    #[test]
    fn short_plaintext_is_too_short() {
        let c = crypto();
        // One 32-byte block of pure padding: no room for the 20-byte header.
        let mut data = vec![32u8; 32];
        let (blocks, _) = Array::slice_as_chunks_mut(&mut data);
        c.encryptor().encrypt_blocks(blocks);
        assert_eq!(
            c.decrypt(&STANDARD.encode(data), ""),
            Err(CryptoError::TooShort(0))
        );
    }

    #[test]
    fn a_wrong_key_fails_cleanly() {
        let other = WecomCrypto::new(TOKEN, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        let err = other.decrypt(ENCRYPT_C, "").unwrap_err();
        assert!(
            matches!(
                err,
                CryptoError::BadPadding
                    | CryptoError::TooShort(_)
                    | CryptoError::LengthTooLarge { .. }
                    | CryptoError::ReceiveIdMismatch
                    | CryptoError::NotUtf8
            ),
            "{err:?}"
        );
    }

    #[test]
    fn wrong_signatures_are_refused() {
        let c = crypto();
        let good = "4bfa0c97b6e7becb8a9dc28466b2c005ce56a95b";
        for (name, signature, timestamp, nonce, encrypt) in [
            (
                "one hex digit off",
                "4bfa0c97b6e7becb8a9dc28466b2c005ce56a95c",
                TIMESTAMP,
                NONCE,
                ENCRYPT_C,
            ),
            (
                "upper case",
                &good.to_uppercase(),
                TIMESTAMP,
                NONCE,
                ENCRYPT_C,
            ),
            ("truncated", &good[..39], TIMESTAMP, NONCE, ENCRYPT_C),
            ("empty", "", TIMESTAMP, NONCE, ENCRYPT_C),
            ("other timestamp", good, "1476422780", NONCE, ENCRYPT_C),
            ("other nonce", good, TIMESTAMP, "1597212915", ENCRYPT_C),
            ("other ciphertext", good, TIMESTAMP, NONCE, ENCRYPT_B),
        ] {
            assert_eq!(
                c.verify(signature, timestamp, nonce, encrypt),
                Err(CryptoError::BadSignature),
                "{name}"
            );
        }
    }

    #[test]
    fn bad_keys_are_errors() {
        for key in [
            "",
            &KEY[..42],
            &format!("{KEY}A"),
            &format!("{KEY}="),
            "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhU*",
            "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqh合",
        ] {
            assert_eq!(
                WecomCrypto::new(TOKEN, key).unwrap_err(),
                CryptoError::InvalidKey,
                "{key}"
            );
        }
    }

    #[test]
    fn the_official_key_needs_lenient_trailing_bits() {
        // 't' = 0b101101 ends in bits that a strict decoder refuses; WeCom keys are random alphanumerics.
        assert!(STANDARD.decode(format!("{KEY}=")).is_err());
        assert_eq!(decode_key(KEY).map(|k| k.len()), Ok(32));
    }

    #[test]
    fn debug_hides_token_and_key() {
        let shown = format!("{:?}", crypto());
        assert_eq!(shown, "WecomCrypto { .. }");
    }
}
