//! Initialises gpu-market on a fresh cluster, idempotently: the stake mint (when none is
//! given), the treasury token account, the staking config, the provider registry config,
//! and, when their parameters are given, the job escrow's market config and the reward
//! emission (with a reward mint only its PDA can mint). Every step first looks at the chain
//! and skips what is already there, so running it twice changes nothing the second time,
//! and a later run can add the parts an earlier one left out.

use gpu_market_client::units::{Date, Decimal, Duration};
use gpu_market_client::{
    escrow, pda, registry, rewards, staking as staking_ix, token, Chain, ClientError, Keypair,
    Pubkey, Signer,
};
use std::time::{SystemTime, UNIX_EPOCH};

/// Cluster-wide parameters of a deployment.
#[derive(Debug, Clone)]
pub struct Params {
    /// An existing stake mint; `None` creates one with the admin as mint authority.
    pub stake_mint: Option<Pubkey>,
    /// Decimals of a stake mint created here.
    pub stake_mint_decimals: u8,
    /// Token program of the stake mint.
    pub token_program: Pubkey,
    /// Owner of the treasury token account (its associated account is used).
    pub treasury_owner: Pubkey,
    pub unbonding_period: i64,
    pub treasury_share_bps: u16,
    /// Authority PDAs allowed to slash (the job escrow's).
    pub slashers: Vec<Pubkey>,
    pub min_stake_per_gpu: u64,
    pub heartbeat_interval: i64,
    pub liveness_grace: i64,
    pub exit_notice: i64,
    pub auditors: Vec<Pubkey>,
    /// Highest benchmark score a provider may declare (and reward weight counts).
    pub max_benchmark_score: u32,
    /// The job escrow's authority PDA.
    pub escrow_authority: Pubkey,
    /// The market config, if the job escrow is to be set up.
    pub escrow: Option<EscrowParams>,
    /// The emission schedule, if rewards are to be set up.
    pub emission: Option<EmissionParams>,
}

/// The job escrow's market parameters (see `job_escrow::InitConfigArgs`).
pub type EscrowParams = job_escrow::InitConfigArgs;

/// The reward emission's schedule.
#[derive(Debug, Clone)]
pub struct EmissionParams {
    /// An existing reward mint whose mint authority is already the emission's PDA; `None`
    /// creates one.
    pub reward_mint: Option<Pubkey>,
    pub decimals: u8,
    pub token_program: Pubkey,
    pub schedule: reward_emission::InitConfigArgs,
}

/// What a run found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub stake_mint: Pubkey,
    pub treasury: Pubkey,
    /// The reward mint, when the emission is set up.
    pub reward_mint: Option<Pubkey>,
    /// The steps this run performed; empty when everything already existed.
    pub created: Vec<&'static str>,
}

/// Brings the cluster behind `chain` to the deployed state described by `params`, with
/// `admin` as the admin of every config.
pub fn initialise(
    chain: &mut impl Chain,
    admin: &Keypair,
    params: &Params,
) -> Result<Deployment, ClientError> {
    let mut created = Vec::new();
    let staking_config = pda::staking_config();
    let existing_mint = if chain.exists(&staking_config)? {
        Some(
            chain
                .fetch::<staking::state::StakingConfig>(&staking_config)?
                .stake_mint,
        )
    } else {
        params.stake_mint
    };
    let stake_mint = match existing_mint {
        Some(mint) => mint,
        None => {
            created.push("stake mint");
            token::create_mint(
                chain,
                &admin.pubkey(),
                params.stake_mint_decimals,
                &params.token_program,
            )?
        }
    };

    let treasury =
        token::associated_address(&params.treasury_owner, &stake_mint, &params.token_program);
    if !chain.exists(&treasury)? {
        token::create_token_account(
            chain,
            &params.treasury_owner,
            &stake_mint,
            &params.token_program,
        )?;
        created.push("treasury token account");
    }

    if !chain.exists(&staking_config)? {
        let ix = staking_ix::init_config(
            &admin.pubkey(),
            &stake_mint,
            &treasury,
            &params.token_program,
            staking::InitConfigArgs {
                unbonding_period: params.unbonding_period,
                treasury_share_bps: params.treasury_share_bps,
                slashers: params.slashers.clone(),
            },
        );
        chain.send(&[ix], &[admin])?;
        created.push("staking config");
    }

    if !chain.exists(&pda::registry_config())? {
        let ix = registry::init_config(
            &admin.pubkey(),
            provider_registry::InitConfigArgs {
                min_stake_per_gpu: params.min_stake_per_gpu,
                heartbeat_interval: params.heartbeat_interval,
                liveness_grace: params.liveness_grace,
                exit_notice: params.exit_notice,
                auditors: params.auditors.clone(),
                escrow_authority: params.escrow_authority,
                max_benchmark_score: params.max_benchmark_score,
            },
        );
        chain.send(&[ix], &[admin])?;
        created.push("registry config");
    }

    if let Some(args) = &params.escrow {
        if !chain.exists(&pda::market_config())? {
            chain.send(
                &[escrow::init_config(&admin.pubkey(), args.clone())],
                &[admin],
            )?;
            created.push("market config");
        }
    }

    let mut reward_mint = None;
    if let Some(emission) = &params.emission {
        let config = pda::emission_config();
        let mint = if chain.exists(&config)? {
            chain.fetch::<rewards::EmissionConfig>(&config)?.reward_mint
        } else {
            let mint = match emission.reward_mint {
                Some(mint) => mint,
                None => {
                    created.push("reward mint");
                    token::create_mint(
                        chain,
                        &pda::reward_mint_authority(),
                        emission.decimals,
                        &emission.token_program,
                    )?
                }
            };
            let ix = rewards::init_config(
                &admin.pubkey(),
                &mint,
                &emission.token_program,
                emission.schedule.clone(),
            );
            chain.send(&[ix], &[admin])?;
            created.push("emission config");
            mint
        };
        reward_mint = Some(mint);
    }

    Ok(Deployment {
        stake_mint,
        treasury,
        reward_mint,
        created,
    })
}

/// The token program of the mints a deployment creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenProgram {
    /// SPL Token.
    Token,
    /// SPL Token-2022.
    #[value(name = "token-2022")]
    Token2022,
}

impl TokenProgram {
    /// The program's id.
    pub fn id(self) -> Pubkey {
        match self {
            Self::Token => token::TOKEN_PROGRAM,
            Self::Token2022 => token::TOKEN_2022_PROGRAM,
        }
    }
}

/// Every deployment parameter as a command-line flag, with defaults meant for a public
/// cluster. Token amounts are whole tokens (`0.01`), in the decimals of their mint;
/// durations take units (`28d`, `15m`); dates are UTC (`2026-12-01T00:00:00Z`).
///
/// Shared by the `gpu-market-migrations` binary and `gpu-market admin init`
/// (`#[command(flatten)]`).
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    /// Existing stake mint [default: create one, with the admin as mint authority]
    #[arg(long)]
    pub stake_mint: Option<Pubkey>,
    /// Decimals of a stake mint created here
    #[arg(long, default_value_t = 6)]
    pub stake_mint_decimals: u8,
    /// Token program of the mints created here
    #[arg(long, value_enum, default_value_t = TokenProgram::Token)]
    pub token_program: TokenProgram,
    /// Treasury wallet: its token accounts receive the treasury's share of slashes and the
    /// protocol fees [default: the admin]
    #[arg(long)]
    pub treasury_owner: Option<Pubkey>,
    /// How long unstaked tokens stay locked, and slashable, before withdrawal (28 days: it
    /// must outlast the longest job, see --max-job-duration)
    #[arg(long, default_value = "28d")]
    pub unbonding_period: Duration,
    /// Share of each slash paid to the treasury, in bps; the rest goes to the harmed client
    #[arg(long, default_value_t = 2_500)]
    pub treasury_share_bps: u16,
    /// Active stake a provider needs per GPU it lists (1,000 tokens)
    #[arg(long, default_value = "1000")]
    pub min_stake_per_gpu: Decimal,
    /// Longest time between a provider's registry heartbeats. A node's own job transactions
    /// and uptime records carry one, so an idle node sends one per uptime interval
    #[arg(long, default_value = "30m")]
    pub heartbeat_interval: Duration,
    /// Time past a due heartbeat before a provider counts as offline
    #[arg(long, default_value = "5m")]
    pub liveness_grace: Duration,
    /// Notice a provider gives between announcing its exit and leaving (1 day)
    #[arg(long, default_value = "1d")]
    pub exit_notice: Duration,
    /// Hardware auditor; repeat for several, at most 8 [default: the admin]
    #[arg(long = "auditor")]
    pub auditors: Vec<Pubkey>,
    /// Highest benchmark score a provider may declare; reward weight never counts more
    #[arg(long, default_value_t = 10_000)]
    pub max_benchmark_score: u32,
    /// Rules on disputed job results [default: the admin]
    #[arg(long)]
    pub arbiter: Option<Pubkey>,
    /// Protocol fee on job payments, in bps (at most 2000)
    #[arg(long, default_value_t = 250)]
    pub protocol_fee_bps: u16,
    /// Mint jobs may be paid in; repeat for several, at most 8 [default: the stake mint]
    #[arg(long = "payment-mint")]
    pub payment_mints: Vec<Pubkey>,
    /// How long an auction job takes bids
    #[arg(long, default_value = "5m")]
    pub bid_window: Duration,
    /// How long an assigned provider has to start a job (15 minutes: room for large
    /// image pulls)
    #[arg(long, default_value = "15m")]
    pub start_timeout: Duration,
    /// How long a running job may go without a heartbeat (35 minutes: agents send one
    /// every 30, with their uptime record where rewards run, leaving 5 to land). It is also
    /// the most of a silent provider's time a lease bills: a shorter grace finds a vanished
    /// provider sooner and costs every busy node more transactions
    #[arg(long, default_value = "35m")]
    pub heartbeat_grace: Duration,
    /// How long a client has to dispute a batch result (1 day)
    #[arg(long, default_value = "1d")]
    pub challenge_window: Duration,
    /// Provider attempts before a job is refunded rather than re-opened
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u8,
    /// Longest run a job may ask for, extensions included (7 days). A job's whole
    /// lifetime (this, the start timeout, the grace, the challenge window and the 14-day
    /// dispute timeout) must fit in the unbonding period
    #[arg(long, default_value = "7d")]
    pub max_job_duration: Duration,
    /// Key of the market's matcher service (`gpu-market market match` run with it), which
    /// may assign open instant jobs to eligible providers [default: none: providers take
    /// instant jobs themselves]
    #[arg(long)]
    pub matcher: Option<Pubkey>,
    /// How long the matcher has a new instant job to itself before any eligible provider may
    /// take it; at most half --bid-window and 600 [default: 30 with --matcher, else 0]
    #[arg(long, requires = "matcher")]
    pub match_window: Option<Duration>,
    /// Stake slashed when an assigned provider never starts (10 tokens)
    #[arg(long, default_value = "10")]
    pub slash_no_start: Decimal,
    /// Stake slashed when a running job's heartbeats stop (50 tokens)
    #[arg(long, default_value = "50")]
    pub slash_heartbeat_lost: Decimal,
    /// Stake slashed when a batch job ends without a result (50 tokens)
    #[arg(long, default_value = "50")]
    pub slash_no_result: Decimal,
    /// Stake slashed when the arbiter rules against the provider (100 tokens)
    #[arg(long, default_value = "100")]
    pub slash_dispute_lost: Decimal,
    /// Stake slashed when a known-answer (canary) job's client reveals an answer that
    /// differs from the provider's result (100 tokens)
    #[arg(long, default_value = "100")]
    pub slash_wrong_result: Decimal,
    /// Paid from a job's deposit to whoever cranks its expiry or reclaim, once per attempt,
    /// in the payment mint (0.01 tokens)
    #[arg(long, default_value = "0.01")]
    pub crank_tip: Decimal,
    /// Bond a client posts to dispute a result, in the payment mint (10 tokens)
    #[arg(long, default_value = "10")]
    pub dispute_bond: Decimal,
    /// Existing reward mint whose mint authority is already the emission's PDA
    /// [default: create one]
    #[arg(long)]
    pub reward_mint: Option<Pubkey>,
    /// Decimals of a reward mint created here
    #[arg(long, default_value_t = 6)]
    pub reward_mint_decimals: u8,
    /// Start of reward epoch 0, a UTC date such as 2026-12-01T00:00:00Z [default: now]
    #[arg(long)]
    pub genesis_time: Option<Date>,
    /// Length of a reward epoch (1 day)
    #[arg(long, default_value = "1d")]
    pub epoch_length: Duration,
    /// Shortest time between two uptime records of one node, at most an epoch (30 minutes:
    /// 48 records a day)
    #[arg(long, default_value = "30m")]
    pub uptime_interval: Duration,
    /// Reward tokens emitted per epoch in the first decay period (100,000 tokens)
    #[arg(long, default_value = "100000")]
    pub first_epoch_emission: Decimal,
    /// Cut in the per-epoch emission at each decay period, in bps (5%)
    #[arg(long, default_value_t = 500)]
    pub decay_bps: u16,
    /// Epochs per decay period (30: monthly with daily epochs)
    #[arg(long, default_value_t = 30)]
    pub decay_period_epochs: u64,
    /// Most reward tokens ever minted (100 million tokens)
    #[arg(long, default_value = "100000000")]
    pub hard_cap: Decimal,
}

/// The match window a market with a matcher gets unless told otherwise: long enough for the
/// matcher to see a job and assign it, short enough that a job never waits long for it.
pub const DEFAULT_MATCH_WINDOW: i64 = 30;

impl DeployArgs {
    /// The [`Params`] these flags describe, with `admin` as the default treasury, arbiter
    /// and auditor, and the job escrow's authority PDA as the slasher and the registry's
    /// escrow authority.
    ///
    /// Without `--payment-mint` or `--stake-mint` the market's payment mint is the stake
    /// mint a first run creates, unknown here: the escrow's `allowed_mints` is then empty,
    /// and [`DeployArgs::deploy`] fills it in.
    pub fn params(&self, admin: &Pubkey, decimals: MintDecimals) -> Result<Params, DeployError> {
        let treasury_owner = self.treasury_owner.unwrap_or(*admin);
        let escrow_authority = pda::escrow_authority();
        let allowed_mints = match (&self.payment_mints[..], self.stake_mint) {
            ([], stake_mint) => stake_mint.into_iter().collect(),
            (mints, _) => mints.to_vec(),
        };
        let amount = |flag: &str, value: &Decimal, decimals: u8| {
            value
                .to_base_units(decimals)
                .map_err(|e| DeployError::Input(format!("--{flag}: {e}")))
        };
        let stake = |flag: &str, value: &Decimal| amount(flag, value, decimals.stake);
        let payment = |flag: &str, value: &Decimal| amount(flag, value, decimals.payment);
        let reward = |flag: &str, value: &Decimal| amount(flag, value, decimals.reward);
        Ok(Params {
            stake_mint: self.stake_mint,
            stake_mint_decimals: self.stake_mint_decimals,
            token_program: self.token_program.id(),
            treasury_owner,
            unbonding_period: self.unbonding_period.seconds,
            treasury_share_bps: self.treasury_share_bps,
            slashers: vec![escrow_authority],
            min_stake_per_gpu: stake("min-stake-per-gpu", &self.min_stake_per_gpu)?,
            heartbeat_interval: self.heartbeat_interval.seconds,
            liveness_grace: self.liveness_grace.seconds,
            exit_notice: self.exit_notice.seconds,
            auditors: match &self.auditors[..] {
                [] => vec![*admin],
                auditors => auditors.to_vec(),
            },
            max_benchmark_score: self.max_benchmark_score,
            escrow_authority,
            escrow: Some(EscrowParams {
                treasury: treasury_owner,
                arbiter: self.arbiter.unwrap_or(*admin),
                protocol_fee_bps: self.protocol_fee_bps,
                allowed_mints,
                bid_window: self.bid_window.seconds,
                start_timeout: self.start_timeout.seconds,
                heartbeat_grace: self.heartbeat_grace.seconds,
                challenge_window: self.challenge_window.seconds,
                max_attempts: self.max_attempts,
                slash: job_escrow::state::SlashAmounts {
                    no_start: stake("slash-no-start", &self.slash_no_start)?,
                    heartbeat_lost: stake("slash-heartbeat-lost", &self.slash_heartbeat_lost)?,
                    no_result: stake("slash-no-result", &self.slash_no_result)?,
                    dispute_lost: stake("slash-dispute-lost", &self.slash_dispute_lost)?,
                    wrong_result: stake("slash-wrong-result", &self.slash_wrong_result)?,
                },
                crank_tip: payment("crank-tip", &self.crank_tip)?,
                dispute_bond: payment("dispute-bond", &self.dispute_bond)?,
                max_job_duration: self.max_job_duration.seconds,
                matcher: self.matcher.unwrap_or_default(),
                match_window: match self.matcher {
                    Some(_) => self
                        .match_window
                        .map_or(DEFAULT_MATCH_WINDOW, |w| w.seconds),
                    None => 0,
                },
            }),
            emission: Some(EmissionParams {
                reward_mint: self.reward_mint,
                decimals: self.reward_mint_decimals,
                token_program: self.token_program.id(),
                schedule: reward_emission::InitConfigArgs {
                    genesis_time: self.genesis_time.map_or_else(unix_now, |d| d.unix),
                    epoch_length: self.epoch_length.seconds,
                    record_interval: self.uptime_interval.seconds,
                    first_epoch_emission: reward(
                        "first-epoch-emission",
                        &self.first_epoch_emission,
                    )?,
                    decay_bps: self.decay_bps,
                    decay_period_epochs: self.decay_period_epochs,
                    hard_cap: reward("hard-cap", &self.hard_cap)?,
                },
            }),
        })
    }

    /// Runs [`initialise`] with [`DeployArgs::params`], `admin` administering every config.
    /// When the market's payment mint is to be the stake mint a first run creates, the
    /// market config waits for a second, idempotent pass, once that mint exists.
    pub fn deploy(
        &self,
        chain: &mut impl Chain,
        admin: &Keypair,
    ) -> Result<Deployment, DeployError> {
        let decimals = self.decimals(chain)?;
        let mut params = self.params(&admin.pubkey(), decimals)?;
        let Some(escrow) = params
            .escrow
            .take_if(|escrow| escrow.allowed_mints.is_empty())
        else {
            return Ok(initialise(chain, admin, &params)?);
        };
        let first = initialise(chain, admin, &params)?;
        params.escrow = Some(EscrowParams {
            allowed_mints: vec![first.stake_mint],
            ..escrow
        });
        let second = initialise(chain, admin, &params)?;
        Ok(Deployment {
            created: first.created.into_iter().chain(second.created).collect(),
            ..second
        })
    }
}

impl DeployArgs {
    /// The decimals of the mints the token amounts are in: those of the mints that exist
    /// (configured already, or given), else those given for the mints a run creates. The
    /// crank tip and dispute bond are one amount for every payment mint, so the payment
    /// mints must share their decimals.
    pub fn decimals(&self, chain: &mut impl Chain) -> Result<MintDecimals, DeployError> {
        let staking_config = pda::staking_config();
        let stake_mint = if chain.exists(&staking_config)? {
            Some(
                chain
                    .fetch::<staking::state::StakingConfig>(&staking_config)?
                    .stake_mint,
            )
        } else {
            self.stake_mint
        };
        let stake = match stake_mint {
            Some(mint) => mint_decimals(chain, &mint)?,
            None => self.stake_mint_decimals,
        };
        let mut payment = None;
        for mint in &self.payment_mints {
            let decimals = mint_decimals(chain, mint)?;
            if payment.is_some_and(|d| d != decimals) {
                return Err(DeployError::Input(format!(
                    "the payment mints have different decimals ({mint} has {decimals}): the crank tip and dispute bond are one amount for all of them"
                )));
            }
            payment = Some(decimals);
        }
        let emission_config = pda::emission_config();
        let reward_mint = if chain.exists(&emission_config)? {
            Some(
                chain
                    .fetch::<rewards::EmissionConfig>(&emission_config)?
                    .reward_mint,
            )
        } else {
            self.reward_mint
        };
        let reward = match reward_mint {
            Some(mint) => mint_decimals(chain, &mint)?,
            None => self.reward_mint_decimals,
        };
        Ok(MintDecimals {
            stake,
            payment: payment.unwrap_or(stake),
            reward,
        })
    }
}

fn mint_decimals(chain: &mut impl Chain, mint: &Pubkey) -> Result<u8, ClientError> {
    Ok(token::read_mint(chain, mint)?.decimals)
}

/// The decimals of the mints a deployment's token amounts are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MintDecimals {
    pub stake: u8,
    pub payment: u8,
    pub reward: u8,
}

/// Why a deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The cluster refused or could not be reached.
    #[error(transparent)]
    Chain(#[from] ClientError),
    /// A flag's value does not fit (an amount with more decimals than its mint has).
    #[error("{0}")]
    Input(String),
}

/// The wall clock, as the emission's default genesis: a live cluster's clock keeps close
/// to it.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const TOKEN: u64 = 1_000_000;
    const SIX: MintDecimals = MintDecimals {
        stake: 6,
        payment: 6,
        reward: 6,
    };
    use clap::Parser;
    use gpu_market_in_process::InProcessChain;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        deploy: DeployArgs,
    }

    fn parse(args: &[&str]) -> DeployArgs {
        Cli::try_parse_from(std::iter::once("deploy").chain(args.iter().copied()))
            .unwrap()
            .deploy
    }

    #[test]
    fn defaults_name_the_admin_and_the_escrow_authority() {
        let admin = Pubkey::new_unique();
        let params = parse(&[]).params(&admin, SIX).unwrap();
        assert_eq!(params.slashers, vec![pda::escrow_authority()]);
        assert_eq!(params.escrow_authority, pda::escrow_authority());
        assert_eq!(params.auditors, vec![admin]);
        assert_eq!(params.treasury_owner, admin);
        assert_eq!(params.unbonding_period, 28 * DAY);
        assert_eq!(params.min_stake_per_gpu, 1_000 * TOKEN);
        // An idle node sends one liveness transaction per half hour: 48 a day.
        assert_eq!(
            (params.heartbeat_interval, params.liveness_grace),
            (1_800, 300)
        );
        assert_eq!(params.token_program, token::TOKEN_PROGRAM);
        let escrow = params.escrow.unwrap();
        assert_eq!((escrow.arbiter, escrow.treasury), (admin, admin));
        // The stake mint is not known before a first run creates it.
        assert_eq!(escrow.allowed_mints, Vec::<Pubkey>::new());
        let schedule = params.emission.unwrap().schedule;
        assert!((schedule.genesis_time - unix_now()).abs() < 60);
        assert_eq!(schedule.record_interval, 1_800);
    }

    #[test]
    fn amounts_take_their_mints_decimals_and_durations_their_units() {
        let admin = Pubkey::new_unique();
        let decimals = MintDecimals {
            stake: 6,
            payment: 2,
            reward: 6,
        };
        let err = parse(&["--crank-tip", "0.001"])
            .params(&admin, decimals)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--crank-tip: '0.001' has more than 2 decimal places, the most this token has"
        );
        let bare = Cli::try_parse_from(["deploy", "--unbonding-period", "2419200"]).unwrap_err();
        assert!(
            bare.to_string()
                .contains("'2419200' has no unit: write 2419200s, 2419200m, 2419200h or 2419200d"),
            "{bare}"
        );
        let unix = Cli::try_parse_from(["deploy", "--genesis-time", "1700000000"]).unwrap_err();
        assert!(
            unix.to_string()
                .contains("'1700000000' is a bare number: write a date, e.g. 2026-12-01T00:00:00Z"),
            "{unix}"
        );
    }

    #[test]
    fn amounts_take_the_decimals_of_the_mints_that_exist() {
        let mut chain = InProcessChain::start().unwrap();
        let admin = Keypair::new();
        chain
            .transfer_lamports(&admin.pubkey(), 10_000_000_000)
            .unwrap();
        let mint = |chain: &mut InProcessChain, decimals| {
            token::create_mint(chain, &admin.pubkey(), decimals, &token::TOKEN_PROGRAM).unwrap()
        };
        let (two, nine) = (mint(&mut chain, 2), mint(&mut chain, 9));
        let args = parse(&[
            "--stake-mint",
            &nine.to_string(),
            "--payment-mint",
            &two.to_string(),
        ]);
        let decimals = args.decimals(&mut chain).unwrap();
        assert_eq!(
            decimals,
            MintDecimals {
                stake: 9,
                payment: 2,
                reward: 6
            }
        );
        let params = args.params(&admin.pubkey(), decimals).unwrap();
        assert_eq!(params.min_stake_per_gpu, 1_000 * 1_000_000_000);
        assert_eq!(params.escrow.unwrap().crank_tip, 1);
        let both = parse(&[
            "--payment-mint",
            &two.to_string(),
            "--payment-mint",
            &nine.to_string(),
        ]);
        assert_eq!(
            both.decimals(&mut chain).unwrap_err().to_string(),
            format!("the payment mints have different decimals ({nine} has 9): the crank tip and dispute bond are one amount for all of them")
        );
    }

    #[test]
    fn flags_override_the_defaults() {
        let [admin, stake_mint, payment_mint, auditor, arbiter] =
            std::array::from_fn(|_| Pubkey::new_unique());
        let (stake, pay, audit, arb) = (
            stake_mint.to_string(),
            payment_mint.to_string(),
            auditor.to_string(),
            arbiter.to_string(),
        );
        let params = parse(&[
            "--stake-mint",
            &stake,
            "--auditor",
            &audit,
            "--arbiter",
            &arb,
            "--token-program",
            "token-2022",
            "--protocol-fee-bps",
            "100",
            "--genesis-time",
            "2023-11-14T22:13:20Z",
            "--slash-no-start",
            "7.5",
            "--crank-tip",
            "0.02",
            "--challenge-window",
            "12h",
            "--hard-cap",
            "1000",
        ])
        .params(
            &admin,
            MintDecimals {
                stake: 6,
                payment: 2,
                reward: 0,
            },
        )
        .unwrap();
        assert_eq!(params.stake_mint, Some(stake_mint));
        assert_eq!(params.auditors, vec![auditor]);
        assert_eq!(params.token_program, token::TOKEN_2022_PROGRAM);
        let escrow = params.escrow.clone().unwrap();
        assert_eq!(escrow.arbiter, arbiter);
        assert_eq!(escrow.protocol_fee_bps, 100);
        // Amounts in each mint's decimals, durations with units.
        assert_eq!(escrow.slash.no_start, 7_500_000);
        assert_eq!(escrow.crank_tip, 2);
        assert_eq!(escrow.challenge_window, 12 * 3_600);
        // The payment mints default to a given stake mint.
        assert_eq!(escrow.allowed_mints, vec![stake_mint]);
        let schedule = params.emission.unwrap().schedule;
        assert_eq!(schedule.genesis_time, 1_700_000_000);
        assert_eq!(schedule.hard_cap, 1_000);

        let params = parse(&["--stake-mint", &stake, "--payment-mint", &pay])
            .params(&admin, SIX)
            .unwrap();
        assert_eq!(params.escrow.unwrap().allowed_mints, vec![payment_mint]);
    }

    #[test]
    fn deploy_sets_up_everything_once_with_the_stake_mint_as_payment_mint() {
        let mut chain = InProcessChain::start().unwrap();
        let admin = Keypair::new();
        chain
            .transfer_lamports(&admin.pubkey(), 10_000_000_000)
            .unwrap();
        let genesis = gpu_market_client::units::format_date(chain.now().unwrap());
        let args = parse(&["--genesis-time", &genesis]);

        let first = args.deploy(&mut chain, &admin).unwrap();
        assert_eq!(
            first.created,
            vec![
                "stake mint",
                "treasury token account",
                "staking config",
                "registry config",
                "reward mint",
                "emission config",
                "market config",
            ]
        );
        let market: job_escrow::state::MarketConfig = chain.fetch(&pda::market_config()).unwrap();
        assert_eq!(market.allowed_mints, vec![first.stake_mint]);

        let again = args.deploy(&mut chain, &admin).unwrap();
        assert_eq!(again.created, Vec::<&str>::new());
        assert_eq!(
            (again.stake_mint, again.treasury, again.reward_mint),
            (first.stake_mint, first.treasury, first.reward_mint)
        );
    }
}
