//! The escrow stand-in program (crate `escrow_proxy`), re-exported for the fixtures.

pub use escrow_proxy::*;
