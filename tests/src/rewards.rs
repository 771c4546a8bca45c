//! A market with the reward emission configured, and helpers to record and claim.

use crate::fixtures::*;
use gpu_market_client::{
    pda,
    rewards::{self, EmissionConfig, ProviderRewards},
    token, Chain, ClientError, Pubkey, TxOutcome,
};

/// One epoch per hour.
pub const EPOCH_LENGTH: i64 = 3_600;
/// Deliberately not divisible by 4, to show rounding down.
pub const FIRST_EPOCH_EMISSION: u64 = 1_000 * TOKEN + 3;
/// 10% less every two epochs.
pub const DECAY_BPS: u16 = 1_000;
pub const DECAY_PERIOD_EPOCHS: u64 = 2;
pub const HARD_CAP: u64 = 100_000 * TOKEN;

/// The test emission schedule, starting at `genesis_time`, with a new reward mint.
pub fn emission_params(genesis_time: i64, hard_cap: u64) -> gpu_market_migrations::EmissionParams {
    gpu_market_migrations::EmissionParams {
        reward_mint: None,
        decimals: 6,
        token_program: token::TOKEN_PROGRAM,
        schedule: reward_emission::InitConfigArgs {
            genesis_time,
            epoch_length: EPOCH_LENGTH,
            record_interval: HEARTBEAT_INTERVAL,
            first_epoch_emission: FIRST_EPOCH_EMISSION,
            decay_bps: DECAY_BPS,
            decay_period_epochs: DECAY_PERIOD_EPOCHS,
            hard_cap,
        },
    }
}

impl Market {
    /// A market whose reward emission starts now, with a fresh reward mint.
    pub fn with_rewards(hard_cap: u64) -> Self {
        let mut m = Market::new();
        m.add_rewards(hard_cap);
        m
    }

    /// Adds the reward emission, starting now, to this market.
    pub fn add_rewards(&mut self, hard_cap: u64) {
        let admin = self.admin.insecure_clone();
        let genesis_time = self.chain.now().expect("clock");
        // A second, idempotent run of the migrations adds the emission.
        let mut deployment = params(&admin, &self.auditor);
        deployment.emission = Some(emission_params(genesis_time, hard_cap));
        gpu_market_migrations::initialise(&mut self.chain, &admin, &deployment)
            .expect("emission init_config");
    }

    pub fn emission_config(&mut self) -> EmissionConfig {
        self.chain
            .fetch(&pda::emission_config())
            .expect("emission config")
    }

    /// The epoch the chain's clock is in.
    pub fn current_epoch(&mut self) -> u64 {
        let config = self.emission_config();
        let now = self.chain.now().expect("clock");
        u64::try_from((now - config.genesis_time) / config.epoch_length).expect("after genesis")
    }

    /// Moves the clock to the start of epoch `epoch`.
    pub fn go_to_epoch(&mut self, epoch: u64) {
        let config = self.emission_config();
        let start = config.genesis_time + config.epoch_length * i64::try_from(epoch).unwrap();
        self.chain.wait_until(start).expect("clock");
    }

    pub fn provider_rewards(&mut self, authority: &Pubkey) -> Option<ProviderRewards> {
        rewards::record(&mut self.chain, authority).expect("rewards")
    }

    /// The finalized epochs `authority`'s record holds weight in, to settle.
    pub fn to_settle(&mut self, authority: &Pubkey) -> Vec<u64> {
        let now = self.current_epoch();
        match self.provider_rewards(authority) {
            Some(record) => rewards::settleable(&mut self.chain, &record, now).expect("read"),
            None => Vec::new(),
        }
    }

    /// Records uptime for `provider` (its own operator) in the current epoch, settling what
    /// can be settled.
    pub fn record_uptime(&mut self, provider: &Wallet) -> Result<TxOutcome, ClientError> {
        let epoch = self.current_epoch();
        let settle = self.to_settle(&provider.pubkey());
        let ix = rewards::record_uptime(&provider.pubkey(), &provider.pubkey(), epoch, &settle);
        self.send(ix, &provider.keypair)
    }

    /// Moves the clock to where the fold window of `epoch` closes: it may be finalized.
    pub fn go_to_fold_close(&mut self, epoch: u64) {
        let closes = self.emission_config().fold_closes(epoch).expect("window");
        self.chain.wait_until(closes).expect("clock");
    }

    /// A one-GPU provider whose reward record folds into shard `shard`.
    pub fn provider_in_shard(&mut self, shard: u8) -> Wallet {
        let keypair = loop {
            let keypair = gpu_market_client::Keypair::new();
            let provider = pda::provider(&gpu_market_client::Signer::pubkey(&keypair));
            if rewards::shard_of(&provider) == shard {
                break keypair;
            }
        };
        self.provider_of(keypair, 1)
    }

    /// One pass of the reward crank, paid by the chain's payer.
    pub fn crank(&mut self) -> rewards::CrankReport {
        let payer = self.chain.payer().insecure_clone();
        let report = rewards::crank(&mut self.chain, &payer, usize::MAX).expect("crank");
        assert!(report.refused.is_empty(), "{:?}", report.refused);
        report
    }

    /// Closes `epoch` the way the market's crank does: when it ends, every record's weight
    /// in it is folded; when its fold window closes, it is finalized. Returns the fold
    /// pass and the finalize pass.
    pub fn close_epoch(&mut self, epoch: u64) -> (rewards::CrankReport, rewards::CrankReport) {
        let config = self.emission_config();
        let end = config.epoch_end(epoch).expect("end");
        let now = self.chain.now().expect("clock");
        assert!(
            now < config.fold_closes(epoch).expect("window"),
            "too late to fold"
        );
        self.chain.wait_until(end.max(now)).expect("clock");
        let folded = self.crank();
        self.chain
            .wait_until(config.fold_closes(epoch).expect("window"))
            .expect("clock");
        let finalized = self.crank();
        (folded, finalized)
    }

    /// The associated reward-mint account of `owner`, created if missing.
    pub fn reward_account(&mut self, owner: &Pubkey) -> Pubkey {
        let mint = self.emission_config().reward_mint;
        token::create_token_account(&mut self.chain, owner, &mint, &token::TOKEN_PROGRAM)
            .expect("reward account")
    }

    /// Claims `provider`'s rewards into its reward-mint account.
    pub fn claim(&mut self, provider: &Wallet) -> Result<TxOutcome, ClientError> {
        let mint = self.emission_config().reward_mint;
        let destination = self.reward_account(&provider.pubkey());
        let settle = self.to_settle(&provider.pubkey());
        let ix = rewards::claim_rewards(
            &provider.pubkey(),
            &provider.pubkey(),
            &mint,
            &destination,
            &token::TOKEN_PROGRAM,
            &settle,
        );
        self.send(ix, &provider.keypair)
    }

    /// The reward mint's supply.
    pub fn reward_supply(&mut self) -> u64 {
        let mint = self.emission_config().reward_mint;
        token::read_mint(&mut self.chain, &mint)
            .expect("mint")
            .supply
    }
}

/// The scheduled emission of `epoch`: the first-epoch emission, decayed by `DECAY_BPS`
/// once per `DECAY_PERIOD_EPOCHS` epochs (the program's closed form).
pub fn scheduled_emission(epoch: u64) -> u64 {
    reward_emission::math::period_emission(
        FIRST_EPOCH_EMISSION,
        DECAY_BPS,
        epoch / DECAY_PERIOD_EPOCHS,
    )
    .expect("schedule")
}
