//! Per-instruction tests of the gpu-market programs: each success path with the resulting
//! state and balances, and each rejection with its exact error code.

mod agent;
mod cluster;
mod escrow;
mod filters;
mod fuzz;
mod live_market;
mod migrations;
mod node_api;
mod registry;
mod rewards;
mod scenarios;
mod security;
mod staking;
