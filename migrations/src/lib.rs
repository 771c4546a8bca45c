//! Initialises gpu-market on a fresh cluster, idempotently: the stake mint (when none is
//! given), the treasury token account, the staking config, the provider registry config,
//! and, when their parameters are given, the job escrow's market config and the reward
//! emission (with a reward mint only its PDA can mint). Every step first looks at the chain
//! and skips what is already there, so running it twice changes nothing the second time,
//! and a later run can add the parts an earlier one left out.

use gpu_market_client::{
    escrow, pda, registry, rewards, staking as staking_ix, token, Chain, ClientError, Keypair,
    Pubkey, Signer,
};

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
