//! Byte offsets of an account's fixed-size fields, derived from their types.
//!
//! Clients select accounts with `memcmp` filters and read parts of them with `dataSlice`,
//! which both need the byte offset of a field in the account data. The programs keep every
//! field a client filters or ranks on in a fixed-size header, before any field of variable
//! length, and declare the header once with [`account_layout!`]: each offset is the one
//! before it plus the size of the field there, so the offsets follow the types and are never
//! written by hand.

/// Declares `pub const` byte offsets for consecutive fields, starting at a given offset (8,
/// after the Anchor discriminator). Each offset is the previous one plus the previous
/// field's `anchor_lang::Space::INIT_SPACE`, which for a fixed-size type is its exact Borsh
/// size; so every field but the last must be of fixed size (the last may be of any). The
/// owning program tests the offsets against a real encoding.
///
/// ```ignore
/// staking::account_layout! { 8; AUTHORITY: Pubkey, PRICE: u64, NAME: String }
/// // AUTHORITY = 8, PRICE = 40, NAME = 48
/// ```
#[macro_export]
macro_rules! account_layout {
    ($start:expr; $($name:ident: $ty:ty),+ $(,)?) => {
        $crate::account_layout!(@at $start; $($name: $ty),+);
    };
    (@at $at:expr; $name:ident: $ty:ty) => {
        pub const $name: usize = $at;
    };
    (@at $at:expr; $name:ident: $ty:ty, $($rest:ident: $rty:ty),+) => {
        pub const $name: usize = $at;
        $crate::account_layout!(@at $name + <$ty as anchor_lang::Space>::INIT_SPACE; $($rest: $rty),+);
    };
}
