//! A market whose registry answers to the real job escrow, with a payment mint, a client
//! and helpers to drive jobs.

use crate::fixtures::*;
use gpu_market_client::{
    escrow::{self, JobKind, JobMode, SettleAccounts, SlashAmounts, Workload},
    pda,
    registry::{self, Requirements},
    token, Chain, ClientError, Instruction, Keypair, Pubkey, Signer, TxOutcome,
};

pub const PROTOCOL_FEE_BPS: u16 = 250;
pub const CRANK_TIP: u64 = 10_000;
pub const BID_WINDOW: i64 = 600;
pub const START_TIMEOUT: i64 = 300;
pub const HEARTBEAT_GRACE: i64 = 120;
pub const CHALLENGE_WINDOW: i64 = 3_600;
pub const MAX_ATTEMPTS: u8 = 2;
pub const DISPUTE_BOND: u64 = 5 * TOKEN;
pub const SLASH: SlashAmounts = SlashAmounts {
    no_start: 10 * TOKEN,
    heartbeat_lost: 20 * TOKEN,
    no_result: 30 * TOKEN,
    dispute_lost: 50 * TOKEN,
};

/// The market treasury wallet of the escrow (fees go to its associated token accounts).
pub fn treasury_wallet(m: &Market) -> Pubkey {
    m.admin.pubkey()
}

impl Market {
    /// A market with the job escrow configured as the registry's escrow authority, and a
    /// separate payment mint on the escrow's allow-list.
    pub fn with_escrow() -> Self {
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
        m.send(
            registry::update_config(
                &admin.pubkey(),
                provider_registry::UpdateConfigArgs {
                    escrow_authority: Some(pda::escrow_authority()),
                    ..Default::default()
                },
            ),
            &admin,
        )
        .expect("point the registry at the escrow");
        m.send(
            escrow::init_config(
                &admin.pubkey(),
                job_escrow::InitConfigArgs {
                    treasury: admin.pubkey(),
                    arbiter: m.auditor.pubkey(),
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
                },
            ),
            &admin,
        )
        .expect("escrow init_config");
        m.payment_mint = payment_mint;
        m
    }

    /// A funded client wallet holding `tokens` of the payment mint.
    pub fn client(&mut self, tokens: u64) -> Wallet {
        let wallet = self.wallet(0);
        let account = token::create_token_account(
            &mut self.chain,
            &wallet.pubkey(),
            &self.payment_mint,
            &token::TOKEN_PROGRAM,
        )
        .expect("payment account");
        if tokens > 0 {
            token::mint_to(
                &mut self.chain,
                &self.payment_mint,
                &self.admin,
                &account,
                tokens,
                &token::TOKEN_PROGRAM,
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
            &token::TOKEN_PROGRAM,
        )
        .expect("payment account")
    }

    pub fn create_job_ix(&self, client: &Wallet, args: job_escrow::CreateJobArgs) -> Instruction {
        escrow::create_job(
            &client.pubkey(),
            &self.payment_mint,
            &token::TOKEN_PROGRAM,
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
            token_program: token::TOKEN_PROGRAM,
            provider_authority: *provider,
            treasury: treasury_wallet(self),
        }
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
            gpu_class: None,
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
    }
}

/// Signs `ix` with `signer`.
pub fn signed(m: &mut Market, ix: Instruction, signer: &Keypair) -> Result<TxOutcome, ClientError> {
    m.chain.send(&[ix], &[signer])
}
