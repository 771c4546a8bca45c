use anchor_lang::error::ErrorCode as AnchorError;
use gpu_market_client::{escrow as ix, pda, token, Chain};
use gpu_market_tests::{escrow::*, *};
use job_escrow::{error::EscrowError, events::JobCancelled};

#[test]
fn cancel_refunds_everything_and_closes_the_accounts() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    let job = pda::job(&client.pubkey(), 1);
    let lamports = m.chain.lamports(&client.pubkey()).unwrap();
    m.create_job(&client, batch_job(1, 2)).unwrap();
    let mint = m.payment_mint;
    let out = signed(
        &mut m,
        ix::cancel_job(&client.pubkey(), 1, &mint, &token::TOKEN_PROGRAM),
        &client.keypair,
    )
    .unwrap();
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN);
    assert_eq!(out.events::<JobCancelled>()[0].refunded, 12 * TOKEN + TIPS);
    assert!(!m.chain.exists(&job).unwrap());
    assert!(!m.chain.exists(&pda::job_vault(&job)).unwrap());
    // The rent of both accounts came back (the chain's payer pays fees).
    assert_eq!(m.chain.lamports(&client.pubkey()).unwrap(), lamports);
}

#[test]
fn cancel_after_assignment_is_refused() {
    let mut m = Market::with_escrow();
    let provider = m.provider(2);
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 2)).unwrap();
    let job = pda::job(&client.pubkey(), 1);
    signed(
        &mut m,
        ix::accept_job(&provider.pubkey(), &provider.pubkey(), &job),
        &provider.keypair,
    )
    .unwrap();
    let mint = m.payment_mint;
    assert_error(
        signed(
            &mut m,
            ix::cancel_job(&client.pubkey(), 1, &mint, &token::TOKEN_PROGRAM),
            &client.keypair,
        ),
        EscrowError::JobNotOpen,
    );
}

#[test]
fn only_the_client_cancels() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    let thief = m.client(0);
    m.create_job(&client, batch_job(1, 2)).unwrap();
    let mint = m.payment_mint;
    let ix = swap_account(
        swap_account(
            ix::cancel_job(&client.pubkey(), 1, &mint, &token::TOKEN_PROGRAM),
            &client.pubkey(),
            &thief.pubkey(),
        ),
        &client.tokens,
        &thief.tokens,
    );
    assert_error(signed(&mut m, ix, &thief.keypair), EscrowError::NotClient);
}

/// The escrow's events come from its own event-authority-signed call: an instruction with
/// another event authority is refused, and nobody else can make the escrow emit one.
#[test]
fn the_event_authority_is_checked_and_events_cannot_be_forged() {
    let mut m = Market::with_escrow();
    let client = m.client(100 * TOKEN);
    m.create_job(&client, batch_job(1, 2)).unwrap();
    let job = pda::job(&client.pubkey(), 1);
    let mint = m.payment_mint;
    let events = pda::event_authority(&job_escrow::ID);
    for stand_in in [
        gpu_market_client::Pubkey::new_unique(),
        pda::event_authority(&provider_registry::ID),
    ] {
        let ix = swap_account(
            ix::cancel_job(&client.pubkey(), 1, &mint, &token::TOKEN_PROGRAM),
            &events,
            &stand_in,
        );
        assert_error(
            signed(&mut m, ix, &client.keypair),
            AnchorError::ConstraintAddress,
        );
    }
    // A forged refund of the job, sent by its client.
    let forged = forged_event(
        job_escrow::ID,
        &JobCancelled {
            job,
            client: client.pubkey(),
            refunded: 100 * TOKEN,
        },
    );
    assert_error(
        signed(&mut m, forged, &client.keypair),
        AnchorError::ConstraintSigner,
    );
    assert!(m.chain.exists(&job).unwrap());
    assert_eq!(m.balance(&client.tokens), 100 * TOKEN - 12 * TOKEN - TIPS);
}
