//! Account updates pushed by an RPC node: one `programSubscribe` websocket per program, each
//! update carrying the slot the node reported with it, merged into one stream; and a
//! `slotSubscribe` websocket that tells the node's latest slot and shows the connection
//! alive: a feed that hears nothing at all for [`STALL`] counts as dropped.

use crate::error::ClientError;
use anchor_lang::solana_program::pubkey::Pubkey;
use crossbeam_channel::{Receiver, RecvTimeoutError, Select};
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::pubsub_client::{
    PubsubClient, PubsubProgramClientSubscription, SlotsSubscription,
};
use solana_rpc_client_api::{
    config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, UiAccountEncoding},
    response::{Response, RpcKeyedAccount},
};
use std::{
    str::FromStr,
    time::{Duration, Instant},
};

/// How long a feed may hear nothing (no slot, no account) before it counts as dropped.
pub const STALL: Duration = Duration::from_secs(30);

type Notification = Response<RpcKeyedAccount>;

/// An account as of a slot: pushed by a subscription or read back. `None`, or an account
/// no longer owned by a gpu-market program (a closed account), means it is gone.
#[derive(Debug, Clone)]
pub struct Update {
    pub address: Pubkey,
    pub slot: u64,
    pub account: Option<solana_account::Account>,
}

/// Why [`AccountFeed::next`] returned no update.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// A subscription's websocket closed: subscribe again and read the market again.
    #[error("the websocket subscription to program {0} closed")]
    Closed(Pubkey),
    /// The slot subscription's websocket closed.
    #[error("the websocket slot subscription closed")]
    SlotsClosed,
    /// Nothing came for [`STALL`], not even a slot: the connection is dead or stuck.
    #[error("the websocket feed sent nothing for {0:?}")]
    Stalled(Duration),
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
    slots: Option<SlotsSubscription>,
    /// The latest slot the node announced, and when anything was last heard.
    slot: Option<u64>,
    heard: Instant,
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
            slots: None,
            slot: None,
            heard: Instant::now(),
        };
        feed.slots = Some(PubsubClient::slot_subscribe(websocket_url).map_err(|err| {
            ClientError::Backend(format!("slotSubscribe on {websocket_url} failed: {err}"))
        })?);
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

    /// The latest slot the node announced since the feed began, if any yet.
    pub fn slot(&self) -> Option<u64> {
        self.slot
    }

    /// Waits up to `timeout` for the node to announce a slot; the latest one.
    pub fn wait_for_slot(&mut self, timeout: Duration) -> Result<Option<u64>, FeedError> {
        let until = Instant::now() + timeout;
        while self.slot.is_none() && Instant::now() < until {
            self.heard_slots(Some(until.saturating_duration_since(Instant::now())))?;
        }
        Ok(self.slot)
    }

    /// Takes the slot announcements waiting (or, with `wait`, the first to come within it).
    fn heard_slots(&mut self, wait: Option<Duration>) -> Result<(), FeedError> {
        let Some((_, receiver)) = &self.slots else {
            return Ok(());
        };
        let mut first = wait;
        loop {
            let next = match first.take() {
                Some(wait) => receiver.recv_timeout(wait),
                None => receiver.recv_timeout(Duration::ZERO),
            };
            match next {
                Ok(info) => {
                    self.slot = Some(self.slot.map_or(info.slot, |s| s.max(info.slot)));
                    self.heard = Instant::now();
                }
                Err(RecvTimeoutError::Timeout) => return Ok(()),
                Err(RecvTimeoutError::Disconnected) => return Err(FeedError::SlotsClosed),
            }
        }
    }

    /// The next update, waiting at most `timeout` (`Ok(None)`: nothing came). Fails when a
    /// subscription closed or the feed heard nothing at all for [`STALL`].
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Update>, FeedError> {
        let until = Instant::now() + timeout;
        loop {
            self.heard_slots(None)?;
            if self.heard.elapsed() >= STALL {
                return Err(FeedError::Stalled(self.heard.elapsed()));
            }
            let left = until.saturating_duration_since(Instant::now());
            let mut select = Select::new();
            for receiver in &self.receivers {
                select.recv(receiver);
            }
            let slot_index = self.slots.as_ref().map(|(_, r)| select.recv(r));
            let operation = match select.select_timeout(left) {
                Ok(operation) => operation,
                Err(_) => return Ok(None),
            };
            let i = operation.index();
            if Some(i) == slot_index {
                let received = self.slots.as_ref().map(|(_, r)| operation.recv(r));
                match received {
                    Some(Ok(info)) => {
                        self.slot = Some(self.slot.map_or(info.slot, |s| s.max(info.slot)));
                        self.heard = Instant::now();
                    }
                    _ => return Err(FeedError::SlotsClosed),
                }
                if Instant::now() >= until {
                    return Ok(None);
                }
                continue;
            }
            let program = self.programs[i];
            return match operation.recv(&self.receivers[i]) {
                Ok(notification) => {
                    self.heard = Instant::now();
                    decode(&program, notification).map(Some)
                }
                Err(_) => Err(FeedError::Closed(program)),
            };
        }
    }

    /// Whatever updates are already waiting, without blocking, at most `limit`, taken from
    /// the programs in turn.
    pub fn drain(&mut self, limit: usize) -> Result<Vec<Update>, FeedError> {
        self.heard_slots(None)?;
        let mut out = Vec::new();
        let mut open = vec![true; self.receivers.len()];
        while out.len() < limit && open.iter().any(|o| *o) {
            for (i, receiver) in self.receivers.iter().enumerate() {
                if !open[i] || out.len() >= limit {
                    continue;
                }
                match receiver.recv_timeout(Duration::ZERO) {
                    Ok(notification) => {
                        self.heard = Instant::now();
                        out.push(decode(&self.programs[i], notification)?);
                    }
                    Err(RecvTimeoutError::Timeout) => open[i] = false,
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
        // One thread each: a dead socket must not hold up the others' unsubscribing.
        for subscription in std::mem::take(&mut self.subscriptions) {
            let _ = std::thread::Builder::new()
                .name("feed-unsubscribe".into())
                .spawn(move || drop(subscription));
        }
        if let Some(slots) = self.slots.take() {
            let _ = std::thread::Builder::new()
                .name("feed-unsubscribe".into())
                .spawn(move || drop(slots));
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
