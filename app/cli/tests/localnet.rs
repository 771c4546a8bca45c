//! The localnet tier: `gpu-market localnet` started as a subprocess, and the README's
//! walkthroughs driven through the `gpu-market` binary against its JSON-RPC, reading
//! balances and states back through `--output json`.

use serde_json::Value;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const BIN: &str = env!("CARGO_BIN_EXE_gpu-market");

/// A running `gpu-market localnet` and a home directory for the wallets of the test.
struct Localnet {
    child: Child,
    url: String,
    port: u16,
    ledger: PathBuf,
    home: tempfile::TempDir,
    started: Value,
}

impl Localnet {
    fn start() -> Result<Self> {
        Self::start_with(tempfile::tempdir()?, &[])
    }

    /// A localnet on a new ledger under `home`, started with `extra` arguments.
    fn start_with(home: tempfile::TempDir, extra: &[&str]) -> Result<Self> {
        let ledger = home.path().join("ledger");
        let port = gpu_market_localnet::free_port()?;
        let (child, started) = Self::spawn(home.path(), &ledger, port, extra)?;
        let url = started["url"].as_str().ok_or("no url")?.to_owned();
        eprintln!(
            "localnet at {url}, started in {} ms",
            started["started_in_ms"]
        );
        Ok(Self {
            child,
            url,
            port,
            ledger,
            home,
            started,
        })
    }

    fn spawn(home: &Path, ledger: &Path, port: u16, extra: &[&str]) -> Result<(Child, Value)> {
        let mut child = Command::new(BIN)
            .args(["--output", "json", "localnet", "--ledger"])
            .arg(ledger)
            .args(["--rpc-port", &port.to_string(), "--slot-time", "100ms"])
            .args(extra)
            .env("HOME", home)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        match read.map(|_| serde_json::from_str(&line)) {
            Ok(Ok(started)) => Ok((child, started)),
            failed => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("localnet printed {line:?}: {failed:?}").into())
            }
        }
    }

    /// Stops the cluster as Ctrl-C would and starts it again on the same ledger and port:
    /// whatever talks to it sees its connections drop.
    fn restart(&mut self) -> Result {
        interrupt(&mut self.child, "localnet")?;
        let (child, started) = Self::spawn(self.home.path(), &self.ledger, self.port, &[])?;
        self.child = child;
        assert_eq!(started["new_market"], false, "{started}");
        Ok(())
    }

    fn admin(&self) -> PathBuf {
        self.ledger.join("admin.json")
    }

    /// Runs the binary against the localnet as `keypair`.
    fn run(&self, keypair: Option<&Path>, args: &[&str]) -> Output {
        let mut command = Command::new(BIN);
        command
            .args(["-u", &self.url, "--output", "json"])
            .env("HOME", self.home.path())
            .env_remove("GPU_MARKET_URL")
            .env_remove("GPU_MARKET_KEYPAIR");
        if let Some(keypair) = keypair {
            command.arg("-k").arg(keypair);
        }
        command
            .args(args)
            .output()
            .unwrap_or_else(|err| panic!("run {args:?}: {err}"))
    }

    /// Runs the binary and parses its JSON output; fails with its JSON error report.
    fn json(&self, keypair: Option<&Path>, args: &[&str]) -> Result<Value> {
        let out = self.run(keypair, args);
        if !out.status.success() {
            return Err(format!("gpu-market {args:?} failed: {}", failure(&out)).into());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim())
            .map_err(|err| format!("gpu-market {args:?} printed {text:?}: {err}").into())
    }

    /// A new wallet made with `keygen`, funded through `localnet fund`.
    fn wallet(&self, name: &str, stake: &str, payment: &str) -> Result<(PathBuf, String)> {
        let path = self.home.path().join(format!("{name}.json"));
        let made = self.json(None, &["keygen", "-o", path.to_str().ok_or("path")?])?;
        let pubkey = made["pubkey"].as_str().ok_or("no pubkey")?.to_owned();
        let ledger = self.ledger.to_str().ok_or("path")?;
        self.json(
            None,
            &[
                "localnet",
                "fund",
                &pubkey,
                "--ledger",
                ledger,
                "--sol",
                "10",
                "--stake",
                stake,
                "--payment",
                payment,
            ],
        )?;
        Ok((path, pubkey))
    }

    /// Stops the localnet as Ctrl-C would and checks that it says so.
    fn stop(mut self) -> Result {
        interrupt(&mut self.child, "localnet")
    }
}

/// Sends `child` Ctrl-C and waits up to 30 s for it to exit successfully.
fn interrupt(child: &mut Child, what: &str) -> Result {
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status()?;
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait()? {
            assert!(status.success(), "{what} exited with {status}");
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{what} did not stop within 30 s of Ctrl-C").into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A token amount as the CLI prints it ("1000.50"), in base units of a 6-decimal mint.
fn base_units(amount: &Value) -> Result<u64> {
    let text = amount
        .as_str()
        .ok_or_else(|| format!("{amount} is no amount"))?;
    let text = text.replace(',', "");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let fraction = format!("{fraction:0<6}");
    Ok(whole.parse::<u64>()? * 1_000_000 + fraction.parse::<u64>()?)
}

/// A provider agent serving in the background.
struct Agent(Child);

impl Agent {
    fn serve(net: &Localnet, keypair: &Path, work_dir: &Path) -> Result<Self> {
        let child = Command::new(BIN)
            .args(["-u", &net.url, "-k"])
            .arg(keypair)
            .args([
                "provider",
                "serve",
                "--allow-local-process",
                "--interval",
                "1s",
            ])
            .arg("--work-dir")
            .arg(work_dir)
            .env("HOME", net.home.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        Ok(Self(child))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `job show` until the job reaches `status`.
fn wait_status(net: &Localnet, job: &str, status: &str, within: Duration) -> Result<Value> {
    let deadline = Instant::now() + within;
    loop {
        let shown = net.json(None, &["job", "show", job])?;
        if shown["status"] == status {
            return Ok(shown);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "job {job} is {} after {within:?}, not {status}",
                shown["status"]
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Registers a one-GPU node at a free loopback port, where `provider serve` then serves its
/// job API (and the matcher checks it before assigning).
fn register(net: &Localnet, keypair: &Path, price: &str) -> Result<Value> {
    let endpoint = format!("http://127.0.0.1:{}", gpu_market_localnet::free_port()?);
    register_at(net, keypair, price, &endpoint)
}

/// Registers a one-GPU node whose endpoint is `endpoint`.
fn register_at(net: &Localnet, keypair: &Path, price: &str, endpoint: &str) -> Result<Value> {
    net.json(
        Some(keypair),
        &[
            "provider",
            "register",
            "--gpu-model",
            "NVIDIA GeForce RTX 4090",
            "--gpus",
            "1",
            "--vram",
            "24GiB",
            "--cpu-cores",
            "16",
            "--ram",
            "64GiB",
            "--region",
            "DE",
            "--price",
            price,
            "--endpoint",
            endpoint,
        ],
    )
}

/// A wallet's balance of the market's `role` mint, in base units.
fn tokens(net: &Localnet, owner: &str, role: &str) -> Result<u64> {
    let balance = net.json(None, &["balance", "--owner", owner])?;
    balance["tokens"]
        .as_array()
        .and_then(|tokens| tokens.iter().find(|t| t["role"] == role))
        .and_then(|t| t["base_units"].as_u64())
        .ok_or_else(|| format!("no {role} balance in {balance}").into())
}

/// The least a run of 2 seconds at 0.40 an hour bills, in base units.
const MIN_2S: u64 = 2 * 400_000 / 3_600;
/// The most a run of a minute at 0.40 an hour bills: every run here is shorter.
const MAX_MINUTE: u64 = 60 * 400_000 / 3_600;
/// The default market's crank tip (0.01).
const CRANK_TIP: u64 = 10_000;

/// The payment-token balances of the startup, the provider and the treasury.
fn payments(net: &Localnet, keys: [&str; 3]) -> Result<[u64; 3]> {
    Ok([
        tokens(net, keys[0], "payment")?,
        tokens(net, keys[1], "payment")?,
        tokens(net, keys[2], "payment")?,
    ])
}

/// Checks a settled run against the balances `before` it of the startup, the provider and
/// the treasury (`keys`): the startup paid what was billed (and `tip`, which the treasury,
/// the operator here, earned), the provider received that less the fee, the treasury the
/// fee. Returns what was billed.
fn assert_settled(net: &Localnet, keys: [&str; 3], before: [u64; 3], tip: u64) -> Result<u64> {
    let [startup, provider, treasury] = payments(net, keys)?;
    let billed = before[0] - startup - tip;
    assert!((1..=MAX_MINUTE).contains(&billed), "billed {billed}");
    assert_eq!(provider, before[1] + billed - fee(billed));
    assert_eq!(treasury, before[2] + fee(billed) + tip);
    Ok(billed)
}

/// The protocol fee of the default market (250 bps) on `billed`, rounded down.
fn fee(billed: u64) -> u64 {
    billed * 250 / 10_000
}

/// Moves the localnet's clock forward `by`, then waits until each provider of `live` has
/// sent a registry heartbeat at the new time (their agents see themselves overdue and
/// send one), so that they count as online again.
fn travel(net: &Localnet, by: &str, live: &[&str]) -> Result {
    let moved = net.json(None, &["localnet", "time-travel", by])?;
    let now = humantime::parse_rfc3339(moved["now"].as_str().ok_or("no time")?)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    for authority in live {
        loop {
            let shown = net.json(None, &["provider", "show", "--authority", authority])?;
            let at = shown["last_heartbeat"]
                .as_str()
                .map(humantime::parse_rfc3339);
            if at.is_some_and(|at| at.is_ok_and(|at| at >= now)) {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("{authority} sent no heartbeat after the time travel").into());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    Ok(())
}

fn submit(net: &Localnet, startup: &Path, extra: &[&str]) -> Result<String> {
    let mut args = vec!["job", "submit", "--max-price", "1", "--duration", "1h"];
    args.extend_from_slice(extra);
    let submitted = net.json(Some(startup), &args)?;
    Ok(submitted["job"]
        .as_str()
        .ok_or("no job address")?
        .to_owned())
}

#[test]
fn the_readme_walkthroughs_run_against_a_localnet() -> Result {
    let started = Instant::now();
    let net = Localnet::start()?;
    assert_eq!(net.started["new_market"], true);
    let admin = net.admin();
    let admin_key = net.started["admin"].as_str().ok_or("no admin")?.to_owned();

    // The operator: `admin init` finds the market the localnet's migrations made, twice.
    for _ in 0..2 {
        let init = net.json(Some(&admin), &["admin", "init"])?;
        assert_eq!(init["created"], Value::Array(vec![]), "{init}");
        assert_eq!(init["stake_mint"], net.started["stake_mint"]);
    }
    // Read-only commands need no keypair.
    let stats = net.json(None, &["market", "stats"])?;
    assert_eq!(stats["providers"], 0, "{stats}");

    // A provider stakes, registers and serves.
    let (node_a, a_key) = net.wallet("node-a", "10000", "0")?;
    net.json(Some(&node_a), &["stake", "deposit", "2000"])?;
    let balance = net.json(Some(&node_a), &["balance"])?;
    assert_eq!(balance["stake_active"], "2000.00", "{balance}");
    assert_eq!(tokens(&net, &a_key, "stake")?, 8_000_000_000);
    register(&net, &node_a, "0.40")?;
    let a_provider = net.json(None, &["provider", "show", "--authority", &a_key])?;
    let a_address = a_provider["address"]
        .as_str()
        .ok_or("no address")?
        .to_owned();
    let work_a = tempfile::tempdir()?;
    let mut agent_a = Agent::serve(&net, &node_a, work_a.path())?;

    // A startup posts a batch job, follows it to its result and approves it: it pays
    // exactly what was billed, the provider gets that less the fee, the treasury the fee.
    let (startup, s_key) = net.wallet("startup", "0", "1000")?;
    let a_keys = [s_key.as_str(), a_key.as_str(), admin_key.as_str()];
    let before = payments(&net, a_keys)?;
    let job = submit(&net, &startup, &["--command", "sleep 2; echo trained"])?;
    let watched = net.run(
        Some(&startup),
        &[
            "job",
            "watch",
            &job,
            "--until",
            "result-submitted",
            "--interval",
            "1s",
        ],
    );
    assert!(
        watched.status.success(),
        "{}",
        String::from_utf8_lossy(&watched.stderr)
    );
    let shown = wait_status(&net, &job, "result-submitted", Duration::from_secs(60))?;
    assert_eq!(shown["provider"].as_str(), Some(a_address.as_str()));
    // The result is the hash of what the workload printed.
    let expected = solana_sha256_hasher::hash(b"trained\n").to_bytes();
    let expected: String = expected.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        shown["result_sha256"].as_str(),
        Some(expected.as_str()),
        "{shown}"
    );
    let approved = net.json(Some(&startup), &["job", "approve", &job])?;
    assert_eq!(approved["done"], "approved and settled");
    // Billed at settlement: the served seconds (at least the 2 it slept) at 0.40 an hour.
    let billed = assert_settled(&net, a_keys, before, 0)?;
    assert!(billed >= MIN_2S, "billed {billed}");
    // Closed, the job shows how it ended: the cluster's history of the closing transaction.
    let ended = net.json(Some(&startup), &["job", "show", &job])?;
    assert_eq!(ended["ended"], "approved", "{ended}");
    assert_eq!(base_units(&ended["to_provider"])?, billed - fee(billed));
    assert_eq!(base_units(&ended["fee"])?, fee(billed));
    assert_eq!(ended["signature"], approved["signature"]);

    // A lease, closed by the startup once it runs: paid for the time served.
    let before = payments(&net, a_keys)?;
    let lease = submit(&net, &startup, &["--lease", "--command", "sleep 3600"])?;
    wait_status(&net, &lease, "running", Duration::from_secs(60))?;
    std::thread::sleep(Duration::from_secs(3));
    let closed = net.json(Some(&startup), &["job", "close", &lease])?;
    assert_eq!(closed["done"], "closed and settled");
    let billed = assert_settled(&net, a_keys, before, 0)?;
    let ended = net.json(None, &["job", "watch", &lease])?;
    assert_eq!(ended["ended"], "lease-closed", "{ended}");
    assert_eq!(base_units(&ended["to_provider"])?, billed - fee(billed));

    // An auction: the agent bids its price; once the bid window has passed (time travel),
    // the operator's `market match` closes it and the job runs.
    let before = payments(&net, a_keys)?;
    let auction = submit(
        &net,
        &startup,
        &["--auction", "--command", "sleep 1; echo bid"],
    )?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while net.json(None, &["job", "show", &auction])?["best_bid"].is_null() {
        assert!(Instant::now() < deadline, "no bid on the auction");
        std::thread::sleep(Duration::from_millis(500));
    }
    travel(&net, "301s", &[&a_key])?;
    let round = net.json(Some(&admin), &["market", "match"])?;
    eprintln!("auction round: {round}");
    let shown = wait_status(&net, &auction, "result-submitted", Duration::from_secs(60))?;
    assert_eq!(shown["provider"].as_str(), Some(a_address.as_str()));
    assert_eq!(shown["price_per_gpu_hour"], "0.40");
    net.json(Some(&startup), &["job", "approve", &auction])?;
    // Closing an auction that found its winner pays no crank tip.
    assert_settled(&net, a_keys, before, 0)?;

    // A second node; the first is killed mid-job. Once its heartbeats are overdue (time
    // travel past the default market's 35-minute grace, within the job's hour),
    // `market match` expires the job, slashing the first node for the startup, and the
    // second node finishes it.
    let (node_b, b_key) = net.wallet("node-b", "10000", "0")?;
    net.json(Some(&node_b), &["stake", "deposit", "2000"])?;
    register(&net, &node_b, "0.50")?;
    let b_provider = net.json(None, &["provider", "show", "--authority", &b_key])?;
    let b_address = b_provider["address"]
        .as_str()
        .ok_or("no address")?
        .to_owned();
    let s_stake_before = tokens(&net, &s_key, "stake")?;
    let b_keys = [s_key.as_str(), b_key.as_str(), admin_key.as_str()];
    let before = payments(&net, b_keys)?;
    let long = submit(&net, &startup, &["--command", "sleep 5; echo done"])?;
    let shown = wait_status(&net, &long, "running", Duration::from_secs(60))?;
    assert_eq!(shown["provider"].as_str(), Some(a_address.as_str()));
    agent_a.0.kill()?;
    agent_a.0.wait()?;
    let work_b = tempfile::tempdir()?;
    let _agent_b = Agent::serve(&net, &node_b, work_b.path())?;
    travel(&net, "40m", &[&b_key])?;
    let deadline = Instant::now() + Duration::from_secs(90);
    let finished = loop {
        let round = net.json(Some(&admin), &["market", "match"])?;
        eprintln!("round: {round}");
        let shown = net.json(None, &["job", "show", &long])?;
        if shown["status"] == "result-submitted" {
            break shown;
        }
        assert!(
            Instant::now() < deadline,
            "the re-queued job did not finish: {shown}"
        );
        std::thread::sleep(Duration::from_secs(2));
    };
    assert_eq!(finished["provider"].as_str(), Some(b_address.as_str()));
    assert_eq!(finished["attempts"], 2);
    net.json(Some(&startup), &["job", "approve", &long])?;
    // The first attempt earned nothing; the second node is paid its own run; the operator,
    // the treasury here, earned the expiry's crank tip (0.01) on top of the fee.
    let billed = assert_settled(&net, b_keys, before, CRANK_TIP)?;
    assert!(billed >= MIN_2S, "billed {billed}");
    // The heartbeat-lost slash (50 tokens): 75 % to the startup, 25 % kept for the treasury.
    let a_balance = net.json(None, &["balance", "--owner", &a_key])?;
    assert_eq!(a_balance["stake_active"], "1950.00", "{a_balance}");
    assert_eq!(tokens(&net, &s_key, "stake")?, s_stake_before + 37_500_000);

    // Rewards: a day later reward epoch 0 is over. Anyone's crank folds the nodes' uptime
    // into its total while its fold window (a quarter of an epoch) is open, and finalizes
    // it once the window has closed; then the second node's uptime is claimable.
    travel(&net, "1d", &[&b_key])?;
    let crank = net.json(Some(&admin), &["rewards", "crank"])?;
    assert!(
        crank["folds"].as_array().is_some_and(|f| !f.is_empty()),
        "{crank}"
    );
    assert_eq!(crank["folds"][0][0], 0, "{crank}");
    travel(&net, "6h", &[&b_key])?;
    let crank = net.json(Some(&admin), &["rewards", "crank"])?;
    assert_eq!(crank["finalized_epochs"], serde_json::json!([0]), "{crank}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let claimed = loop {
        let out = net.run(Some(&node_b), &["rewards", "claim"]);
        if out.status.success() {
            let claim: Value = serde_json::from_slice(&out.stdout)?;
            if base_units(&claim["claimed"])? > 0 {
                break claim;
            }
        }
        assert!(
            Instant::now() < deadline,
            "nothing to claim: {}",
            failure(&out)
        );
        std::thread::sleep(Duration::from_secs(2));
    };
    eprintln!("claimed: {claimed}");
    assert!(tokens(&net, &b_key, "reward")? > 0);
    // The wallet view shows a node's unclaimed rewards (none left), and none for a wallet
    // that runs no node.
    let b_balance = net.json(None, &["balance", "--owner", &b_key])?;
    assert_eq!(b_balance["unclaimed_rewards"], "0.00", "{b_balance}");
    let s_balance = net.json(None, &["balance", "--owner", &s_key])?;
    assert_eq!(s_balance["unclaimed_rewards"], Value::Null, "{s_balance}");

    // The first node leaves: exit, the notice passes, retire.
    net.json(Some(&node_a), &["provider", "exit"])?;
    net.json(None, &["localnet", "time-travel", "1d"])?;
    std::thread::sleep(Duration::from_millis(500));
    net.json(Some(&node_a), &["provider", "retire"])?;
    let a_provider = net.json(None, &["provider", "show", "--authority", &a_key])?;
    assert_eq!(a_provider["status"], "retired", "{a_provider}");

    eprintln!("walkthroughs took {:?}", started.elapsed());
    net.stop()
}

/// `gpu-market market serve` running in the background, its JSON lines collected.
struct Matcher {
    child: Child,
    lines: std::sync::mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl Matcher {
    fn serve(net: &Localnet, keypair: &Path, metrics: &str) -> Result<Self> {
        let mut child = Command::new(BIN)
            .args(["-u", &net.url, "--output", "json", "-k"])
            .arg(keypair)
            .args([
                "market",
                "serve",
                "--upkeep-every",
                "1s",
                "--metrics",
                metrics,
            ])
            .env("HOME", net.home.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
            {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|err| panic!("market serve printed {line:?}: {err}"));
                if send.send(value).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            child,
            lines,
            seen: Vec::new(),
        })
    }

    /// The first event not yet returned that `wanted` accepts, waiting up to `within`.
    fn wait(&mut self, within: Duration, wanted: impl Fn(&Value) -> bool) -> Result<Value> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(event) => {
                    eprintln!("market serve: {event}");
                    self.seen.push(event.clone());
                    if wanted(&event) {
                        return Ok(event);
                    }
                }
                Err(_) => {
                    return Err(format!(
                        "market serve printed no such event within {within:?}; it printed {:?}",
                        self.seen
                    )
                    .into())
                }
            }
        }
    }
}

impl Drop for Matcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of `GET /metrics` at `addr`.
fn scrape(addr: &str) -> Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    Ok(body.to_owned())
}

/// The value of the metric `name` in a Prometheus text `body`.
fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[test]
fn the_matcher_service_assigns_new_jobs_and_rides_out_a_restart() -> Result {
    // The matcher's key first: the localnet's new market names it.
    let home = tempfile::tempdir()?;
    let matcher_key = home.path().join("matcher.json");
    let made = Command::new(BIN)
        .args(["--output", "json", "keygen", "-o"])
        .arg(&matcher_key)
        .output()?;
    assert!(made.status.success());
    let made: Value = serde_json::from_slice(&made.stdout)?;
    let matcher = made["pubkey"].as_str().ok_or("no pubkey")?.to_owned();
    let mut net = Localnet::start_with(home, &["--matcher", &matcher])?;
    net.json(
        None,
        &[
            "localnet",
            "fund",
            &matcher,
            "--ledger",
            net.ledger.to_str().ok_or("path")?,
            "--sol",
            "10",
        ],
    )?;

    // A node serving, and the service.
    let (node, node_key) = net.wallet("node", "10000", "0")?;
    net.json(Some(&node), &["stake", "deposit", "2000"])?;
    register(&net, &node, "0.40")?;
    let provider = net.json(None, &["provider", "show", "--authority", &node_key])?["address"]
        .as_str()
        .ok_or("no address")?
        .to_owned();
    let work = tempfile::tempdir()?;
    let _agent = Agent::serve(&net, &node, work.path())?;

    // A startup's instant job, posted before the service starts: the service finds it in
    // its first read and assigns it inside the 30 s match window (the agent may not take
    // it itself before the window closes), and the agent runs it.
    let (startup, _) = net.wallet("startup", "0", "1000")?;
    let job = submit(&net, &startup, &["--command", "echo matched"])?;
    let metrics = format!("127.0.0.1:{}", gpu_market_localnet::free_port()?);
    let mut service = Matcher::serve(&net, &matcher_key, &metrics)?;
    let snapshot = service.wait(Duration::from_secs(60), |e| e["event"] == "snapshot")?;
    assert_eq!(snapshot["matcher"], true, "{snapshot}");
    assert_eq!(snapshot["providers"], 1, "{snapshot}");
    assert_eq!(snapshot["assignable_jobs"], 1, "{snapshot}");
    let assigned = service.wait(Duration::from_secs(25), |e| {
        e["event"] == "assigned" && e["job"] == job.as_str()
    })?;
    assert_eq!(assigned["provider"], provider.as_str(), "{assigned}");
    assert!(
        assigned["created_to_assigned_s"]
            .as_i64()
            .is_some_and(|s| (0..30).contains(&s)),
        "{assigned}"
    );
    let done = wait_status(&net, &job, "result-submitted", Duration::from_secs(60))?;
    assert_eq!(done["provider"], provider.as_str());
    let body = scrape(&metrics)?;
    assert_eq!(
        metric(&body, "gpu_market_matcher_assignments_total"),
        Some(1.0)
    );
    assert_eq!(
        metric(&body, "gpu_market_matcher_snapshots_total"),
        Some(1.0)
    );
    assert_eq!(metric(&body, "gpu_market_matcher_providers"), Some(1.0));
    assert!(
        body.contains("gpu_market_matcher_round_seconds_count"),
        "{body}"
    );

    // The cluster restarts: the service reconnects, reads the market again and assigns
    // a job posted once it is back, as soon as it sees it.
    net.restart()?;
    service.wait(Duration::from_secs(60), |e| e["event"] == "disconnected")?;
    let again = service.wait(Duration::from_secs(90), |e| e["event"] == "snapshot")?;
    assert_eq!(
        again["jobs"], 1,
        "the first job, awaiting approval: {again}"
    );
    let second = submit(&net, &startup, &["--command", "echo again"])?;
    let assigned = service.wait(Duration::from_secs(25), |e| {
        e["event"] == "assigned" && e["job"] == second.as_str()
    })?;
    assert_eq!(assigned["provider"], provider.as_str(), "{assigned}");
    assert!(
        assigned["seen_to_assigned_ms"].as_u64().is_some(),
        "{assigned}"
    );
    wait_status(&net, &second, "result-submitted", Duration::from_secs(60))?;
    let body = scrape(&metrics)?;
    assert_eq!(
        metric(&body, "gpu_market_matcher_assignments_total"),
        Some(2.0)
    );
    assert_eq!(
        metric(&body, "gpu_market_matcher_snapshots_total"),
        Some(2.0)
    );
    assert!(metric(&body, "gpu_market_matcher_disconnects_total") >= Some(1.0));

    // Ctrl-C: the service says what it did and exits cleanly.
    interrupt(&mut service.child, "market serve")?;
    let stopped = service.wait(Duration::from_secs(5), |e| e["event"] == "stopped")?;
    assert_eq!(stopped["assigned"], 2, "{stopped}");
    net.stop()
}

/// What a failed command said: its JSON error report (stdout) and anything on stderr.
fn failure(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The message of a failed command's JSON error report, checking its exit status.
fn refusal(out: &Output, exit_code: i32) -> Result<String> {
    assert_eq!(out.status.code(), Some(exit_code), "{}", failure(out));
    let report: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["error"]["exit_code"], exit_code);
    Ok(report["error"]["message"]
        .as_str()
        .ok_or("no message")?
        .to_owned())
}

/// Every JSON value a command printed, in order.
fn json_stream(out: &Output) -> Result<Vec<Value>> {
    if !out.status.success() {
        return Err(format!("failed: {}", failure(out)).into());
    }
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .collect::<std::result::Result<_, _>>()
        .map_err(Into::into)
}

#[test]
fn a_startup_runs_a_manifest_job_with_inputs_and_a_secret_and_downloads_verified_results() -> Result
{
    let net = Localnet::start()?;
    let (node, node_key) = net.wallet("node", "10000", "0")?;
    net.json(Some(&node), &["stake", "deposit", "2000"])?;
    let port = gpu_market_localnet::free_port()?;
    let endpoint = format!("http://127.0.0.1:{port}");
    register_at(&net, &node, "0.40", &endpoint)?;
    let work = tempfile::tempdir()?;
    let _agent = Agent::serve(&net, &node, work.path())?;

    // The startup's job: a manifest, a directory of inputs and a secret.
    let (startup, _) = net.wallet("startup", "0", "1000")?;
    let project = tempfile::tempdir()?;
    std::fs::create_dir_all(project.path().join("data"))?;
    std::fs::write(project.path().join("data/prompt.txt"), "a red bicycle\n")?;
    let manifest = project.path().join("job.toml");
    std::fs::write(
        &manifest,
        r#"command = ["sh", "-c", "tr a-z A-Z < \"$GPU_MARKET_INPUT_DIR/data/prompt.txt\" > \"$GPU_MARKET_OUTPUT_DIR/image.txt\"; echo \"rendering with token ${API_TOKEN:+set}\""]
inputs = ["data"]
secrets = ["API_TOKEN"]
"#,
    )?;
    let secret = "tok-4b1d-never-shown";
    let downloads = project.path().join("results");
    let manifest_arg = manifest.to_str().ok_or("path")?;
    let downloads_arg = downloads.to_str().ok_or("path")?;
    let out = net.run(
        Some(&startup),
        &[
            "job",
            "submit",
            "--max-price",
            "1",
            "--duration",
            "1h",
            "--manifest",
            manifest_arg,
            "--secret",
            &format!("API_TOKEN={secret}"),
            "--wait",
            "--download",
            downloads_arg,
            "--interval",
            "1s",
        ],
    );
    let printed = json_stream(&out)?;
    assert_eq!(printed.len(), 3, "{printed:?}");
    assert_eq!(printed[0]["done"], "submitted");
    let job = printed[0]["job"].as_str().ok_or("no job")?.to_owned();
    assert_eq!(printed[1]["job"], job.as_str());
    assert_eq!(printed[1]["node"], endpoint.as_str());
    assert_eq!(printed[1]["secrets"], serde_json::json!(["API_TOKEN"]));
    assert!(printed[1]["input_bytes"].as_u64().is_some_and(|b| b > 0));
    assert_eq!(printed[2]["job"], job.as_str());
    assert_eq!(
        std::fs::read_to_string(downloads.join("image.txt"))?,
        "A RED BICYCLE\n"
    );
    // The hash the download was checked against is the chain's.
    let shown = net.json(None, &["job", "show", &job])?;
    assert_eq!(shown["status"], "result-submitted");
    assert_eq!(shown["result_sha256"], printed[2]["sha256"]);
    assert_eq!(
        shown["result_uri"].as_str(),
        Some(format!("{endpoint}/v1/jobs/{job}/result").as_str())
    );

    // Logs and results again, as separate commands; a stranger is turned away.
    let logs = net.run(Some(&startup), &["job", "logs", &job]);
    assert!(
        logs.status.success(),
        "{}",
        String::from_utf8_lossy(&logs.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&logs.stdout),
        "rendering with token set\ngpu-market: the workload exited with status 0\n"
    );
    let again = project.path().join("again");
    let fetched = net.json(
        Some(&startup),
        &["job", "results", &job, "-o", again.to_str().ok_or("path")?],
    )?;
    assert_eq!(fetched["sha256"], printed[2]["sha256"]);
    assert_eq!(
        std::fs::read_to_string(again.join("image.txt"))?,
        "A RED BICYCLE\n"
    );
    let (stranger, _) = net.wallet("stranger", "0", "0")?;
    let refused = net.run(Some(&stranger), &["job", "logs", &job]);
    let message = refusal(&refused, 3)?;
    assert!(message.contains("only the job's client"), "{message}");

    // The secret is in no file on the node and no account on chain.
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                files(&entry.path(), out);
            } else {
                out.push(entry.path());
            }
        }
    }
    let mut all = Vec::new();
    files(work.path(), &mut all);
    for path in &all {
        let bytes = std::fs::read(path)?;
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{} holds the secret",
            path.display()
        );
    }
    let provider = net.json(None, &["provider", "show", "--authority", &node_key])?;
    assert!(!provider.to_string().contains(secret));
    assert!(!shown.to_string().contains(secret));

    let approved = net.json(Some(&startup), &["job", "approve", &job])?;
    assert_eq!(approved["done"], "approved and settled");
    net.stop()
}

/// A lease's service for the test: answers `GET /health` with `ok`, anything else with
/// `hello from the lease`. A local-process lease shares the node's network, so the node
/// reaches whatever listens on the port its manifest exposes.
fn serve_http(listener: std::net::TcpListener) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let body = if head.starts_with(b"GET /health ") {
                "ok"
            } else {
                "hello from the lease"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
}

#[test]
fn a_startup_reaches_its_leases_service_through_the_node_until_it_closes_the_lease() -> Result {
    let net = Localnet::start()?;
    let (node, _) = net.wallet("node", "10000", "0")?;
    net.json(Some(&node), &["stake", "deposit", "2000"])?;
    let endpoint = format!("http://127.0.0.1:{}", gpu_market_localnet::free_port()?);
    register_at(&net, &node, "0.40", &endpoint)?;
    let work = tempfile::tempdir()?;
    let _agent = Agent::serve(&net, &node, work.path())?;
    let port = gpu_market_localnet::free_port()?;

    let (startup, _) = net.wallet("startup", "0", "1000")?;
    let project = tempfile::tempdir()?;
    let manifest = project.path().join("job.toml");
    std::fs::write(
        &manifest,
        format!(
            "command = [\"sleep\", \"600\"]\n\n[[ports]]\nport = {port}\nhealth = \"/health\"\n"
        ),
    )?;
    let out = net.run(
        Some(&startup),
        &[
            "job",
            "submit",
            "--lease",
            "--max-price",
            "1",
            "--duration",
            "1h",
            "--manifest",
            manifest.to_str().ok_or("path")?,
            "--wait",
            "--interval",
            "1s",
        ],
    );
    let printed = json_stream(&out)?;
    assert_eq!(printed.len(), 3, "{printed:?}");
    let job = printed[0]["job"].as_str().ok_or("no job")?.to_owned();
    let url = format!("{endpoint}/v1/jobs/{job}/service/{port}/");
    assert_eq!(printed[2]["services"][0]["url"], url.as_str());
    assert_eq!(printed[2]["token_header"], "x-gpu-market-token");

    // `job show` reports the service's health: down while the workload does not listen,
    // up once it does. (The workload here only sleeps; the test listens on its port, as a
    // local process on the node would.)
    let health = |want: &str| -> Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let shown = net.json(Some(&startup), &["job", "show", &job])?;
            if shown["services"][port.to_string()]
                .as_str()
                .is_some_and(|h| h.starts_with(want))
            {
                return Ok(shown);
            }
            if Instant::now() > deadline {
                return Err(format!("the service never got {want}: {shown}").into());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    let shown = health("down")?;
    assert_eq!(
        shown["services"][port.to_string()],
        "down: it does not accept connections (connection refused)"
    );
    serve_http(std::net::TcpListener::bind(("127.0.0.1", port))?);
    let shown = health("up")?;
    assert_eq!(shown["node_state"], "running");
    let issued = net.json(Some(&startup), &["job", "endpoint", &job, "--valid", "1h"])?;
    let token = issued["token"].as_str().ok_or("no token")?.to_owned();
    let get = |token: Option<&str>| -> Result<(u16, String)> {
        let mut request = reqwest::blocking::Client::new().get(&url);
        if let Some(token) = token {
            request = request.header("x-gpu-market-token", token);
        }
        let response = request.send()?;
        Ok((response.status().as_u16(), response.text()?))
    };
    assert_eq!(get(Some(&token))?, (200, "hello from the lease".to_owned()));
    assert_eq!(get(None)?.0, 401);
    // Nobody but the client gets a token.
    let (stranger, _) = net.wallet("stranger", "0", "0")?;
    let refused = net.run(Some(&stranger), &["job", "endpoint", &job]);
    let message = refusal(&refused, 3)?;
    assert!(message.contains("only the job's client"), "{message}");

    // The client closes the lease: the node closes the service.
    let closed = net.json(Some(&startup), &["job", "close", &job])?;
    assert_eq!(closed["done"], "closed and settled");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get(Some(&token))?;
        if status == 410 {
            assert_eq!(
                body,
                format!(r#"{{"error":"job {job} has ended on this node; its service is closed"}}"#)
            );
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("the service is still open: {status} {body}").into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    net.stop()
}
