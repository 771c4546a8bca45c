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
        let admin = m.admin.insecure_clone();
        let genesis_time = m.chain.now().expect("clock");
        // A second, idempotent run of the migrations adds the emission.
        let mut deployment = params(&admin, &m.auditor);
        deployment.emission = Some(emission_params(genesis_time, hard_cap));
        gpu_market_migrations::initialise(&mut m.chain, &admin, &deployment)
            .expect("emission init_config");
        m
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
        let address = pda::provider_rewards(&pda::provider(authority));
        self.chain
            .exists(&address)
            .expect("read")
            .then(|| self.chain.fetch(&address).expect("rewards"))
    }

    /// The finished epoch `authority`'s record still has to settle, if any.
    pub fn epoch_to_settle(&mut self, authority: &Pubkey) -> Option<u64> {
        let now = self.current_epoch();
        self.provider_rewards(authority)
            .filter(|r| r.needs_settling(now))
            .map(|r| r.current_epoch)
    }

    /// Records uptime for `provider` (its own operator) in the current epoch.
    pub fn record_uptime(&mut self, provider: &Wallet) -> Result<TxOutcome, ClientError> {
        let epoch = self.current_epoch();
        let previous = self.epoch_to_settle(&provider.pubkey());
        let ix = rewards::record_uptime(&provider.pubkey(), &provider.pubkey(), epoch, previous);
        self.send(ix, &provider.keypair)
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
        let previous = self.epoch_to_settle(&provider.pubkey());
        let ix = rewards::claim_rewards(
            &provider.pubkey(),
            &provider.pubkey(),
            &mint,
            &destination,
            &token::TOKEN_PROGRAM,
            previous,
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
