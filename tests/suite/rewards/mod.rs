mod claim_rewards;
mod init_config;
mod record_uptime;
