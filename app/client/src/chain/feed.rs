//! Account updates pushed by an RPC node: one `programSubscribe` websocket per program, each
//! update carrying the slot the node reported with it, merged into one stream.

use crate::{error::ClientError, matcher::live::Update};
use anchor_lang::solana_program::pubkey::Pubkey;
use crossbeam_channel::{Receiver, RecvTimeoutError, Select};
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::pubsub_client::{PubsubClient, PubsubProgramClientSubscription};
use solana_rpc_client_api::{
    config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, UiAccountEncoding},
    response::{Response, RpcKeyedAccount},
};
use std::{str::FromStr, time::Duration};

type Notification = Response<RpcKeyedAccount>;

/// Why [`AccountFeed::next`] returned no update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// A subscription's websocket closed: subscribe again and read the market again.
    #[error("the websocket subscription to program {0} closed")]
    Closed(Pubkey),
    /// The node sent an update this client cannot read.
    #[error("program {program} sent an unreadable update: {reason}")]
    Unreadable { program: Pubkey, reason: String },
}

/// Live subscriptions to the accounts of a set of programs.
pub struct AccountFeed {
    programs: Vec<Pubkey>,
    receivers: Vec<Receiver<Notification>>,
    /// Kept alive while the feed is: dropping one unsubscribes.
    subscriptions: Vec<PubsubProgramClientSubscription>,
}

impl AccountFeed {
    /// Subscribes to every account of each of `programs` at `websocket_url`, base64-encoded
    /// at `commitment`. Fails if any subscription is refused.
    pub fn subscribe(
        websocket_url: &str,
        programs: &[Pubkey],
        commitment: CommitmentConfig,
    ) -> Result<Self, ClientError> {
        let config = RpcProgramAccountsConfig {
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(commitment),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let mut feed = Self {
            programs: Vec::new(),
            receivers: Vec::new(),
            subscriptions: Vec::new(),
        };
        for program in programs {
            let (subscription, receiver) =
                PubsubClient::program_subscribe(websocket_url, program, Some(config.clone()))
                    .map_err(|err| {
                        ClientError::Backend(format!(
                            "programSubscribe to {program} on {websocket_url} failed: {err}"
                        ))
                    })?;
            feed.programs.push(*program);
            feed.receivers.push(receiver);
            feed.subscriptions.push(subscription);
        }
        Ok(feed)
    }

    /// The next update, waiting at most `timeout` (`Ok(None)`: nothing came).
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Update>, FeedError> {
        let mut select = Select::new();
        for receiver in &self.receivers {
            select.recv(receiver);
        }
        let operation = match select.select_timeout(timeout) {
            Ok(operation) => operation,
            Err(_) => return Ok(None),
        };
        let i = operation.index();
        let program = self.programs[i];
        match operation.recv(&self.receivers[i]) {
            Ok(notification) => decode(&program, notification).map(Some),
            Err(_) => Err(FeedError::Closed(program)),
        }
    }

    /// Whatever updates are already waiting, without blocking, at most `limit`.
    pub fn drain(&mut self, limit: usize) -> Result<Vec<Update>, FeedError> {
        let mut out = Vec::new();
        for (i, receiver) in self.receivers.iter().enumerate() {
            while out.len() < limit {
                match receiver.recv_timeout(Duration::ZERO) {
                    Ok(notification) => out.push(decode(&self.programs[i], notification)?),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(FeedError::Closed(self.programs[i]))
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Drop for AccountFeed {
    fn drop(&mut self) {
        // Unsubscribing takes the socket's lock, which the subscription's reader holds
        // until the node sends something: let a thread of its own wait for that.
        let subscriptions = std::mem::take(&mut self.subscriptions);
        if !subscriptions.is_empty() {
            let _ = std::thread::Builder::new()
                .name("feed-unsubscribe".into())
                .spawn(move || drop(subscriptions));
        }
    }
}

/// The update a notification of `program` carries.
fn decode(program: &Pubkey, notification: Notification) -> Result<Update, FeedError> {
    let unreadable = |reason: String| FeedError::Unreadable {
        program: *program,
        reason,
    };
    let keyed = notification.value;
    let address = Pubkey::from_str(&keyed.pubkey)
        .map_err(|err| unreadable(format!("address {}: {err}", keyed.pubkey)))?;
    let account = keyed
        .account
        .decode::<solana_account::Account>()
        .ok_or_else(|| unreadable(format!("account {address} is not base64-encoded")))?;
    Ok(Update {
        address,
        slot: notification.context.slot,
        account: Some(account),
    })
}
