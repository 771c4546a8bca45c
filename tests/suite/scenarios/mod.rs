mod auction;
mod dispute;
mod expiry;
mod instant_batch;
mod lease;
mod reclaim;
mod rewards;
mod token_2022;
