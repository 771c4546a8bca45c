//! One regression test (or more) per finding of the security review: each performs the
//! attack and asserts the exact error, or the honest outcome to the base unit.

mod attestation;
mod auction;
mod billing;
mod client_wallet;
mod collateral;
mod job_terms;
mod lapse;
mod mint_extensions;
mod operator;
mod retire;
