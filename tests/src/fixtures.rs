//! A configured market on an in-process chain.

use crate::proxy;
use anchor_lang::solana_program::instruction::Instruction;
use gpu_market_client::{
    pda,
    registry::{self, GpuClass, Hardware, Provider},
    staking::{self as staking_ix, StakeAccount, StakingConfig},
    token, Chain, ClientError, Keypair, Pubkey, Signer, TxOutcome,
};
use gpu_market_in_process::InProcessChain;
use gpu_market_in_process::{solana_program_test::processor, BuiltinFunctionWithContext};
use provider_registry::RegisterProviderArgs;

pub use gpu_market_client::InstructionError;

/// One whole token of the 6-decimal stake mint.
pub const TOKEN: u64 = 1_000_000;
/// Required stake per declared GPU.
pub const MIN_STAKE_PER_GPU: u64 = 100 * TOKEN;
/// Long enough to outlast the test market's longest job (`escrow::MAX_JOB_DURATION` plus
/// its windows and the 14-day dispute timeout).
pub const UNBONDING_PERIOD: i64 = 21 * 24 * 3_600;
pub const MAX_BENCHMARK_SCORE: u32 = 10_000;
pub const TREASURY_SHARE_BPS: u16 = 2_500;
pub const HEARTBEAT_INTERVAL: i64 = 60;
pub const LIVENESS_GRACE: i64 = 30;
pub const EXIT_NOTICE: i64 = 24 * 3_600;
/// Lamports every new wallet gets.
pub const WALLET_LAMPORTS: u64 = 10_000_000_000;
/// ISO-3166 numeric code of Germany.
pub const REGION_DE: u16 = 276;

/// A market with staking and the registry initialised, a stake mint, a treasury, one
/// auditor, and the escrow proxy as escrow authority and slasher.
pub struct Market {
    pub chain: InProcessChain,
    pub admin: Keypair,
    pub auditor: Keypair,
    pub stake_mint: Pubkey,
    pub treasury: Pubkey,
    /// The mint providers list as their payment mint (the stake mint until
    /// [`Market::with_escrow`] creates a separate one).
    pub payment_mint: Pubkey,
    /// The payment mint's token program.
    pub payment_token_program: Pubkey,
}

/// A provider's keys: cold wallet (authority) and hot key (operator).
pub struct Wallet {
    pub keypair: Keypair,
    /// Its associated token account of the stake mint.
    pub tokens: Pubkey,
}

impl Wallet {
    pub fn pubkey(&self) -> Pubkey {
        self.keypair.pubkey()
    }
}

/// An H100 node with `gpus` GPUs.
pub fn h100_node(gpus: u16) -> Hardware {
    Hardware {
        gpu_model: "NVIDIA H100 80GB HBM3".into(),
        gpu_class: GpuClass::Datacenter,
        gpu_count: gpus,
        vram_mib: 81_920,
        cpu_cores: 64,
        ram_mib: 524_288,
        disk_gib: 4_000,
        bandwidth_mbps: 10_000,
    }
}

/// Registration arguments for an H100 node in Germany at 2 tokens per GPU-hour.
pub fn listing(operator: &Pubkey, gpus: u16, payment_mint: &Pubkey) -> RegisterProviderArgs {
    RegisterProviderArgs {
        operator: *operator,
        endpoint: "https://node-1.example:8443".into(),
        region: REGION_DE,
        hardware: h100_node(gpus),
        benchmark_score: 1_000,
        price_per_gpu_hour: 2 * TOKEN,
        payment_mint: *payment_mint,
    }
}

/// The deployment parameters every test market uses.
pub fn params(admin: &Keypair, auditor: &Keypair) -> gpu_market_migrations::Params {
    gpu_market_migrations::Params {
        stake_mint: None,
        stake_mint_decimals: 6,
        token_program: token::TOKEN_PROGRAM,
        treasury_owner: admin.pubkey(),
        unbonding_period: UNBONDING_PERIOD,
        treasury_share_bps: TREASURY_SHARE_BPS,
        slashers: vec![proxy::authority(), pda::escrow_authority()],
        min_stake_per_gpu: MIN_STAKE_PER_GPU,
        heartbeat_interval: HEARTBEAT_INTERVAL,
        liveness_grace: LIVENESS_GRACE,
        exit_notice: EXIT_NOTICE,
        auditors: vec![auditor.pubkey()],
        max_benchmark_score: MAX_BENCHMARK_SCORE,
        escrow_authority: proxy::authority(),
        escrow: None,
        emission: None,
    }
}

impl Market {
    /// Starts a chain and initialises the market on it.
    pub fn new() -> Self {
        let proxy: Option<BuiltinFunctionWithContext> = processor!(proxy::process);
        let chain = InProcessChain::builder()
            .with_native_program(
                "escrow_proxy",
                proxy::PROGRAM_ID,
                proxy.expect("a processor"),
            )
            .start()
            .expect("chain starts");
        Self::initialise(chain)
    }

    fn initialise(mut chain: InProcessChain) -> Self {
        let admin = Keypair::new();
        let auditor = Keypair::new();
        chain
            .transfer_lamports(&admin.pubkey(), WALLET_LAMPORTS)
            .expect("fund admin");
        let deployment =
            gpu_market_migrations::initialise(&mut chain, &admin, &params(&admin, &auditor))
                .expect("initialise the market");
        Self {
            chain,
            admin,
            auditor,
            stake_mint: deployment.stake_mint,
            treasury: deployment.treasury,
            payment_mint: deployment.stake_mint,
            payment_token_program: token::TOKEN_PROGRAM,
        }
    }

    /// A new funded wallet holding `tokens` of the stake mint.
    pub fn wallet(&mut self, tokens: u64) -> Wallet {
        self.wallet_of(Keypair::new(), tokens)
    }

    /// [`Market::wallet`] with a given key.
    pub fn wallet_of(&mut self, keypair: Keypair, tokens: u64) -> Wallet {
        self.chain
            .transfer_lamports(&keypair.pubkey(), WALLET_LAMPORTS)
            .expect("fund wallet");
        let account = token::create_token_account(
            &mut self.chain,
            &keypair.pubkey(),
            &self.stake_mint,
            &token::TOKEN_PROGRAM,
        )
        .expect("token account");
        if tokens > 0 {
            token::mint_to(
                &mut self.chain,
                &self.stake_mint,
                &self.admin,
                &account,
                tokens,
                &token::TOKEN_PROGRAM,
            )
            .expect("mint stake tokens");
        }
        Wallet {
            keypair,
            tokens: account,
        }
    }

    pub fn stake_ix(&self, owner: &Wallet, amount: u64) -> Instruction {
        staking_ix::stake(
            &owner.pubkey(),
            &owner.tokens,
            &self.stake_mint,
            &token::TOKEN_PROGRAM,
            amount,
        )
    }

    pub fn stake(&mut self, owner: &Wallet, amount: u64) -> Result<TxOutcome, ClientError> {
        let ix = self.stake_ix(owner, amount);
        self.chain.send(&[ix], &[&owner.keypair])
    }

    /// A wallet that staked enough for `gpus` GPUs and registered an H100 node, with
    /// itself as operator.
    pub fn provider(&mut self, gpus: u16) -> Wallet {
        self.provider_of(Keypair::new(), gpus)
    }

    /// [`Market::provider`] with a given key.
    pub fn provider_of(&mut self, keypair: Keypair, gpus: u16) -> Wallet {
        let wallet = self.wallet_of(keypair, MIN_STAKE_PER_GPU * u64::from(gpus));
        self.register(&wallet, &wallet.pubkey(), gpus);
        wallet
    }

    /// A registered H100 node with separate authority and operator keys.
    pub fn provider_with_operator(&mut self, gpus: u16) -> (Wallet, Wallet) {
        let authority = self.wallet(MIN_STAKE_PER_GPU * u64::from(gpus));
        let operator = self.wallet(0);
        self.register(&authority, &operator.pubkey(), gpus);
        (authority, operator)
    }

    fn register(&mut self, authority: &Wallet, operator: &Pubkey, gpus: u16) {
        self.stake(authority, MIN_STAKE_PER_GPU * u64::from(gpus))
            .expect("stake");
        let args = listing(operator, gpus, &self.payment_mint);
        self.send(
            registry::register_provider(&authority.pubkey(), args),
            &authority.keypair,
        )
        .expect("register");
    }

    /// Sends one instruction signed by `signer`.
    pub fn send(&mut self, ix: Instruction, signer: &Keypair) -> Result<TxOutcome, ClientError> {
        self.chain.send(&[ix], &[signer])
    }

    /// Sends `inner` through the escrow proxy, signed by the proxy's authority PDA.
    pub fn send_as_escrow(&mut self, inner: Instruction) -> Result<TxOutcome, ClientError> {
        self.chain.send(&[proxy::wrap(inner)], &[])
    }

    pub fn provider_account(&mut self, authority: &Pubkey) -> Provider {
        self.chain
            .fetch(&pda::provider(authority))
            .expect("provider")
    }

    /// Changes registry parameters the only way there is: the admin proposes, the timelock
    /// passes, anyone applies.
    pub fn update_registry(&mut self, args: provider_registry::UpdateConfigArgs) {
        let admin = self.admin.insecure_clone();
        self.send(
            registry::propose_config_update(&admin.pubkey(), args),
            &admin,
        )
        .expect("propose registry update");
        self.chain
            .advance(provider_registry::constants::CONFIG_TIMELOCK)
            .expect("wait out the timelock");
        self.send(registry::apply_config_update(&admin.pubkey()), &admin)
            .expect("apply registry update");
    }

    /// The market's auditor attests the spec `authority`'s provider declares now.
    pub fn attest(&mut self, authority: &Pubkey) {
        let node = self.provider_account(authority);
        let hash = registry::spec_hash(&node.hardware, node.benchmark_score);
        let auditor = self.auditor.insecure_clone();
        self.send(
            registry::attest_provider(&auditor.pubkey(), authority, hash),
            &auditor,
        )
        .expect("attest");
    }

    pub fn stake_account(&mut self, owner: &Pubkey) -> StakeAccount {
        self.chain
            .fetch(&pda::stake_account(owner))
            .expect("stake account")
    }

    pub fn staking_config(&mut self) -> StakingConfig {
        self.chain
            .fetch(&pda::staking_config())
            .expect("staking config")
    }

    pub fn balance(&mut self, token_account: &Pubkey) -> u64 {
        token::balance(&mut self.chain, token_account).expect("balance")
    }
}

impl Default for Market {
    fn default() -> Self {
        Self::new()
    }
}

/// Asserts that `result` failed with the custom program error `expected` (an Anchor
/// framework error or a gpu-market program error).
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(result: Result<T, ClientError>, expected: impl Into<u32>) {
    let expected = expected.into();
    match result {
        Ok(value) => panic!("expected program error {expected}, but it succeeded: {value:?}"),
        Err(err) => assert_eq!(
            err.custom_code(),
            Some(expected),
            "expected program error {expected}, got {err}\nlogs:\n{}",
            err.logs().join("\n")
        ),
    }
}

/// An instruction that asks `program` to emit `event` as its own event call would, but
/// with its event authority unsigned: what another program or a stranger could send.
pub fn forged_event(program: Pubkey, event: &impl anchor_lang::Event) -> Instruction {
    let mut data = anchor_lang::event::EVENT_IX_TAG_LE.to_vec();
    data.extend(event.data());
    Instruction {
        program_id: program,
        accounts: vec![
            anchor_lang::solana_program::instruction::AccountMeta::new_readonly(
                gpu_market_client::pda::event_authority(&program),
                false,
            ),
        ],
        data,
    }
}

/// `ix` with every occurrence of account `from` replaced by `to`: for passing an account
/// in the wrong place.
pub fn swap_account(mut ix: Instruction, from: &Pubkey, to: &Pubkey) -> Instruction {
    let mut found = false;
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *from) {
        meta.pubkey = *to;
        found = true;
    }
    assert!(found, "{from} is not an account of the instruction");
    ix
}

/// What Anchor's `init` of an account that already exists fails with on `chain`. Anchor
/// 1.2.2 asks the system program for `CreateAccountAllowPrefund`: the Agave 3.1 system
/// program of the native bank cannot decode it (invalid instruction data), while the 4.2
/// one of the SBF tier decodes it and refuses with `AccountAlreadyInUse` (custom error 0).
pub fn already_initialised(chain: &InProcessChain) -> InstructionError {
    if chain.runs_sbf() {
        InstructionError::Custom(0)
    } else {
        InstructionError::InvalidInstructionData
    }
}
