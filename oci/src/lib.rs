//! Pattern artifacts in OCI registries: a pattern directory packed as one image manifest
//! ([`layout`]), pushed, fetched and written back all-or-nothing ([`pattern`]), signed and
//! verified cosign-style ([`sign`]), with credentials always named — never embedded
//! ([`creds`]) — and a verified content-addressed cache that resolves the loader's registry
//! and https imports ([`cache`], [`imports`]).

pub mod cache;
pub mod client;
pub mod creds;
pub mod error;
pub mod imports;
pub mod layout;
pub mod pattern;
pub mod reference;
pub mod sign;

pub use client::{Options, Progress, Registry};
pub use error::OciError;
pub use reference::{Base, Reference};
