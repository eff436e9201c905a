//! WeCom (企业微信) intelligent robot: callback encryption and message formats.

pub mod crypto;
pub mod message;
