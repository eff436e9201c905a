//! The chat platforms: WeCom and DingTalk message formats, signatures and encryption.

pub mod dingtalk;
pub mod wecom;
