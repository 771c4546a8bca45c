mod accept_job;
mod assign_job;
mod cancel_job;
mod create_job;
mod settle_job;
mod start_job;
mod submit_result;
mod update_config;
