//! A market whose registry answers to the real job escrow, with a payment mint, a client
//! and helpers to drive jobs.

use crate::fixtures::*;
use gpu_market_client::{
    escrow::{self, JobKind, JobMode, SettleAccounts, SlashAmounts, Workload},
    pda,
    registry::{ClassFilter, Requirements},
    token, Chain, ClientError, Instruction, Keypair, Pubkey, Signer, TxOutcome,
};

pub const PROTOCOL_FEE_BPS: u16 = 250;
pub const CRANK_TIP: u64 = 10_000;
/// The crank tips a job deposits: one per possible attempt.
pub const TIPS: u64 = CRANK_TIP * MAX_ATTEMPTS as u64;
pub const BID_WINDOW: i64 = 600;
pub const START_TIMEOUT: i64 = 300;
pub const HEARTBEAT_GRACE: i64 = 120;
pub const CHALLENGE_WINDOW: i64 = 3_600;
pub const MAX_ATTEMPTS: u8 = 2;
pub const DISPUTE_BOND: u64 = 5 * TOKEN;
/// Longest job the test market allows: 2 days.
pub const MAX_JOB_DURATION: i64 = 2 * 24 * 3_600;
pub const SLASH: SlashAmounts = SlashAmounts {
    no_start: 10 * TOKEN,
    heartbeat_lost: 20 * TOKEN,
    no_result: 30 * TOKEN,
    dispute_lost: 50 * TOKEN,
    wrong_result: 40 * TOKEN,
};

/// The market parameters of the test escrow.
pub fn escrow_params(
    treasury: &Pubkey,
    arbiter: &Pubkey,
    payment_mint: Pubkey,
) -> job_escrow::InitConfigArgs {
    job_escrow::InitConfigArgs {
        treasury: *treasury,
        arbiter: *arbiter,
        protocol_fee_bps: PROTOCOL_FEE_BPS,
        allowed_mints: vec![payment_mint],
        bid_window: BID_WINDOW,
        start_timeout: START_TIMEOUT,
        heartbeat_grace: HEARTBEAT_GRACE,
        challenge_window: CHALLENGE_WINDOW,
        max_attempts: MAX_ATTEMPTS,
        slash: SLASH,
        crank_tip: CRANK_TIP,
        dispute_bond: DISPUTE_BOND,
        max_job_duration: MAX_JOB_DURATION,
        matcher: Pubkey::default(),
        match_window: 0,
    }
}

/// The market treasury wallet of the escrow (fees go to its associated token accounts).
pub fn treasury_wallet(m: &Market) -> Pubkey {
    m.admin.pubkey()
}

impl Market {
    /// A market with the job escrow configured as the registry's escrow authority, and a
    /// separate payment mint on the escrow's allow-list.
    pub fn with_escrow() -> Self {
        Self::with_escrow_config(|_| {})
    }

    /// As [`Market::with_escrow`], with the market parameters `edit` makes to the test ones.
    pub fn with_escrow_config(edit: impl FnOnce(&mut job_escrow::InitConfigArgs)) -> Self {
        let mut m = Market::new();
        let admin = m.admin.insecure_clone();
        let payment_mint =
            token::create_mint(&mut m.chain, &admin.pubkey(), 6, &token::TOKEN_PROGRAM)
                .expect("payment mint");
        token::create_token_account(
            &mut m.chain,
            &admin.pubkey(),
            &payment_mint,
            &token::TOKEN_PROGRAM,
        )
        .expect("treasury payment account");
        m.update_registry(provider_registry::UpdateConfigArgs {
            escrow_authority: Some(pda::escrow_authority()),
            ..Default::default()
        });
        // A second, idempotent run of the migrations adds the market config.
        let mut deployment = params(&admin, &m.auditor);
        let mut escrow = escrow_params(&admin.pubkey(), &m.auditor.pubkey(), payment_mint);
        edit(&mut escrow);
        deployment.escrow = Some(escrow);
        gpu_market_migrations::initialise(&mut m.chain, &admin, &deployment)
            .expect("escrow init_config");
        m.payment_mint = payment_mint;
        m
    }

    /// A market whose matcher (the returned keypair, funded) has new instant jobs to itself
    /// for `match_window` seconds.
    pub fn with_matcher(match_window: i64) -> (Self, Keypair) {
        let matcher = Keypair::new();
        let key = matcher.pubkey();
        let mut m = Self::with_escrow_config(|args| {
            args.matcher = key;
            args.match_window = match_window;
        });
        m.chain
            .transfer_lamports(&key, WALLET_LAMPORTS)
            .expect("fund the matcher");
        (m, matcher)
    }

    /// Changes market parameters: the admin proposes, the timelock passes, anyone applies.
    pub fn update_escrow(&mut self, args: job_escrow::UpdateConfigArgs) {
        let admin = self.admin.insecure_clone();
        self.send(escrow::propose_config_update(&admin.pubkey(), args), &admin)
            .expect("propose market update");
        self.chain
            .advance(job_escrow::constants::CONFIG_TIMELOCK)
            .expect("wait out the timelock");
        self.send(escrow::apply_config_update(&admin.pubkey()), &admin)
            .expect("apply market update");
    }

    /// A funded client wallet holding `tokens` of the payment mint.
    pub fn client(&mut self, tokens: u64) -> Wallet {
        let wallet = self.wallet(0);
        let account = self.payment_account(&wallet.pubkey());
        if tokens > 0 {
            token::mint_to(
                &mut self.chain,
                &self.payment_mint,
                &self.admin,
                &account,
                tokens,
                &self.payment_token_program,
            )
            .expect("mint payment tokens");
        }
        Wallet {
            keypair: wallet.keypair,
            tokens: account,
        }
    }

    /// The associated payment-mint account of `owner`, created if missing.
    pub fn payment_account(&mut self, owner: &Pubkey) -> Pubkey {
        token::create_token_account(
            &mut self.chain,
            owner,
            &self.payment_mint,
            &self.payment_token_program,
        )
        .expect("payment account")
    }

    pub fn create_job_ix(&self, client: &Wallet, args: job_escrow::CreateJobArgs) -> Instruction {
        escrow::create_job(
            &client.pubkey(),
            &self.payment_mint,
            &self.payment_token_program,
            args,
        )
    }

    pub fn create_job(
        &mut self,
        client: &Wallet,
        args: job_escrow::CreateJobArgs,
    ) -> Result<TxOutcome, ClientError> {
        let ix = self.create_job_ix(client, args);
        self.chain.send(&[ix], &[&client.keypair])
    }

    pub fn job(&mut self, client: &Pubkey, job_id: u64) -> escrow::Job {
        self.chain.fetch(&pda::job(client, job_id)).expect("job")
    }

    pub fn settle_keys(
        &self,
        caller: &Pubkey,
        client: &Wallet,
        job_id: u64,
        provider: &Pubkey,
    ) -> SettleAccounts {
        SettleAccounts {
            caller: *caller,
            client: client.pubkey(),
            job_id,
            payment_mint: self.payment_mint,
            token_program: self.payment_token_program,
            provider_authority: *provider,
            treasury: treasury_wallet(self),
        }
    }

    /// The staking accounts a slash of a provider touches.
    pub fn slash_keys(&self) -> escrow::SlashKeys {
        escrow::SlashKeys {
            stake_mint: self.stake_mint,
            stake_token_program: token::TOKEN_PROGRAM,
        }
    }

    /// The associated stake-mint account of `owner` (where a slash of its provider pays it),
    /// created if missing.
    pub fn stake_mint_account(&mut self, owner: &Pubkey) -> Pubkey {
        token::create_token_account(
            &mut self.chain,
            owner,
            &self.stake_mint,
            &token::TOKEN_PROGRAM,
        )
        .expect("stake-mint account")
    }

    /// The address of the associated payment-mint account of `owner`.
    pub fn payment_account_address(&self, owner: &Pubkey) -> Pubkey {
        token::associated_address(owner, &self.payment_mint, &self.payment_token_program)
    }

    /// Sum of the payment-mint balances of `accounts`.
    pub fn total(&mut self, accounts: &[Pubkey]) -> u64 {
        accounts.iter().map(|a| self.balance(a)).sum()
    }
}

/// A batch job on `gpus` H100-class GPUs in Germany, instant mode, at most 3 tokens per
/// GPU-hour for up to two hours.
pub fn batch_job(job_id: u64, gpus: u16) -> job_escrow::CreateJobArgs {
    job_escrow::CreateJobArgs {
        job_id,
        requirements: Requirements {
            gpu_class: ClassFilter::Any,
            gpu_count: gpus,
            min_vram_mib: 40_960,
            min_cpu_cores: 8,
            min_ram_mib: 65_536,
            region: 0,
            min_benchmark: 0,
            attested_only: false,
        },
        workload: Workload {
            content_hash: [7; 32],
            uri: "oci://registry.example/train:1.0".into(),
        },
        kind: JobKind::Batch,
        mode: JobMode::Instant,
        max_price_per_gpu_hour: 3 * TOKEN,
        max_duration: 2 * 3_600,
        verification: [0xAB; 32],
    }
}

/// Signs `ix` with `signer`.
pub fn signed(m: &mut Market, ix: Instruction, signer: &Keypair) -> Result<TxOutcome, ClientError> {
    m.chain.send(&[ix], &[signer])
}

/// A lease on `gpus` GPUs for up to `hours` hours at most 3 tokens per GPU-hour.
pub fn lease_job(job_id: u64, gpus: u16, hours: i64) -> job_escrow::CreateJobArgs {
    job_escrow::CreateJobArgs {
        kind: JobKind::Lease,
        max_duration: hours * 3_600,
        ..batch_job(job_id, gpus)
    }
}

/// A job with its client and the accounts whose payment-mint balances must add up.
pub struct Scenario {
    pub client: Wallet,
    pub job_id: u64,
    pub job: Pubkey,
    pub vault: Pubkey,
    pub treasury: Pubkey,
    /// Every payment-mint account the scenario moves tokens between.
    pub accounts: Vec<Pubkey>,
    pub supply: u64,
    /// Every stake-mint account a slash moves tokens between: the staking vault, the
    /// client's account and the staking treasury.
    pub stake_accounts: Vec<Pubkey>,
    pub stake_supply: u64,
}

impl Scenario {
    /// A client with 100 tokens, its stake-mint account, the treasury account, and the
    /// payment accounts of `providers` and `others` (crankers), all counted.
    pub fn new(m: &mut Market, job_id: u64, providers: &[&Wallet], others: &[&Wallet]) -> Self {
        let client = m.client(100 * TOKEN);
        let client_stake = m.stake_mint_account(&client.pubkey());
        let stake_accounts = vec![pda::staking_vault(), client_stake, m.treasury];
        let stake_supply = m.total(&stake_accounts);
        let treasury_owner = treasury_wallet(m);
        let treasury = m.payment_account(&treasury_owner);
        let job = pda::job(&client.pubkey(), job_id);
        let vault = pda::job_vault(&job);
        let mut accounts = vec![client.tokens, treasury, vault];
        for w in providers.iter().chain(others) {
            accounts.push(m.payment_account(&w.pubkey()));
        }
        let supply = m.total(&accounts);
        Self {
            client,
            job_id,
            job,
            vault,
            treasury,
            accounts,
            supply,
            stake_accounts,
            stake_supply,
        }
    }

    pub fn keys(&self, m: &Market, caller: &Pubkey, provider: &Pubkey) -> SettleAccounts {
        m.settle_keys(caller, &self.client, self.job_id, provider)
    }

    /// Tokens were neither created nor lost, and the job and vault are gone.
    pub fn assert_closed_and_conserved(&self, m: &mut Market) {
        assert!(!m.chain.exists(&self.job).unwrap(), "job account left open");
        assert!(!m.chain.exists(&self.vault).unwrap(), "vault left open");
        assert_eq!(
            m.total(&self.accounts),
            self.supply,
            "payment tokens not conserved"
        );
        assert_eq!(
            m.total(&self.stake_accounts),
            self.stake_supply,
            "stake tokens not conserved"
        );
    }
}

/// Moves the clock `seconds` on while the node of `authority` serves `job`: its `operator`
/// heartbeats every 100 s and at the end, as a live agent does.
pub fn serve(m: &mut Market, operator: &Keypair, authority: &Pubkey, job: &Pubkey, seconds: i64) {
    let end = m.chain.now().expect("clock") + seconds;
    loop {
        let step = (end - m.chain.now().expect("clock")).min(100);
        if step <= 0 {
            break;
        }
        m.chain.advance(step).expect("advance");
        signed(
            m,
            escrow::heartbeat_job(&operator.pubkey(), authority, job),
            operator,
        )
        .expect("heartbeat");
    }
}

/// The node whose authority and operator are both `provider` takes `job` and starts it.
pub fn take_and_start(m: &mut Market, provider: &Keypair, job: &Pubkey) {
    let key = provider.pubkey();
    signed(m, escrow::accept_job(&key, &key, job), provider).expect("accept");
    signed(m, escrow::start_job(&key, &key, job), provider).expect("start");
}
