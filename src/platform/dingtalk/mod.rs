//! DingTalk (钉钉) robots: callback and webhook signatures, message formats.

pub mod message;
pub mod sign;
