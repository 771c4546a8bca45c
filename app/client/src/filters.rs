//! `memcmp` filters that select provider and job accounts by the fields the programs keep at
//! fixed offsets (`provider_registry::state::layout`, `job_escrow::state::layout`), for
//! [`Chain::fetch_where`](crate::Chain::fetch_where). Each filter's bytes are the Borsh
//! encoding of the typed value, never a literal.
//!
//! A `getProgramAccounts` call takes at most four filters, the account type's
//! discriminator included, so [`provider::active_in_class`] and [`job::open_for`] each cover
//! two fields (they sit side by side).

use crate::chain::Memcmp;
use anchor_lang::{solana_program::pubkey::Pubkey, AnchorSerialize};

/// The Borsh encoding of `value` (into a Vec, which cannot fail).
fn encoded(value: &impl AnchorSerialize) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = value.serialize(&mut bytes);
    bytes
}

/// Filters on [`Provider`](crate::registry::Provider) accounts.
pub mod provider {
    use super::*;
    use crate::registry::{GpuClass, ProviderStatus};
    use provider_registry::state::layout;

    const _: () = assert!(layout::GPU_CLASS == layout::STATUS + 1);

    pub fn with_status(status: ProviderStatus) -> Memcmp {
        Memcmp::new(layout::STATUS, encoded(&status))
    }

    /// Active providers of GPU class `class`.
    pub fn active_in_class(class: GpuClass) -> Memcmp {
        let mut bytes = encoded(&ProviderStatus::Active);
        bytes.extend(encoded(&class));
        Memcmp::new(layout::STATUS, bytes)
    }

    pub fn paid_in(mint: &Pubkey) -> Memcmp {
        Memcmp::new(layout::PAYMENT_MINT, mint.to_bytes())
    }

    pub fn in_region(region: u16) -> Memcmp {
        Memcmp::new(layout::REGION, encoded(&region))
    }

    pub fn of_authority(authority: &Pubkey) -> Memcmp {
        Memcmp::new(layout::AUTHORITY, authority.to_bytes())
    }

    pub fn operated_by(operator: &Pubkey) -> Memcmp {
        Memcmp::new(layout::OPERATOR, operator.to_bytes())
    }
}

/// Filters on [`Job`](crate::escrow::Job) accounts.
pub mod job {
    use super::*;
    use crate::{
        escrow::{JobMode, JobStatus},
        registry::ClassFilter,
    };
    use job_escrow::state::layout;

    const _: () = assert!(layout::GPU_CLASS == layout::STATUS + 1);

    pub fn with_status(status: JobStatus) -> Memcmp {
        Memcmp::new(layout::STATUS, encoded(&status))
    }

    /// Open jobs whose requirements name `class` exactly (`ClassFilter::Any`: the jobs that
    /// accept any class). A provider of class C wants both `open_for(C)` and
    /// `open_for(ClassFilter::Any)`.
    pub fn open_for(class: ClassFilter) -> Memcmp {
        let mut bytes = encoded(&JobStatus::Open);
        bytes.extend(encoded(&class));
        Memcmp::new(layout::STATUS, bytes)
    }

    /// Jobs assigned to the provider account `provider`: the assignment's `Some` tag and
    /// the address together, so an unassigned job never matches.
    pub fn assigned_to(provider: &Pubkey) -> Memcmp {
        let mut bytes = encoded(&Some(()));
        bytes.extend(provider.to_bytes());
        Memcmp::new(layout::ASSIGNMENT, bytes)
    }

    pub fn of_client(client: &Pubkey) -> Memcmp {
        Memcmp::new(layout::CLIENT, client.to_bytes())
    }

    pub fn paid_in(mint: &Pubkey) -> Memcmp {
        Memcmp::new(layout::PAYMENT_MINT, mint.to_bytes())
    }

    pub fn with_mode(mode: JobMode) -> Memcmp {
        Memcmp::new(layout::MODE, encoded(&mode))
    }
}

/// Filters on [`StakeAccount`](crate::staking::StakeAccount) accounts.
pub mod stake {
    use super::*;
    use crate::staking::StakeAccount;
    use anchor_lang::Discriminator;

    /// Where the owner sits: the first field, after the discriminator (a test decodes it
    /// there).
    pub const OWNER: usize = StakeAccount::DISCRIMINATOR.len();

    pub fn of_owner(owner: &Pubkey) -> Memcmp {
        Memcmp::new(OWNER, owner.to_bytes())
    }
}
