pub mod codec;
pub mod vendor;
