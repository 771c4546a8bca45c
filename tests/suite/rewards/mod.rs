mod claim_rewards;
mod fold_uptime;
mod init_config;
mod record_uptime;
