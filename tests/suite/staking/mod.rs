mod cancel_unstake;
mod init_config;
mod lock_stake;
mod request_unstake;
mod slash;
mod stake;
mod update_config;
mod withdraw;
