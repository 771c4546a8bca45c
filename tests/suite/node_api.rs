//! The channel between a startup and the node that runs its job, on loopback: a manifest job
//! with inputs and a secret, served by the agent and its job API against the in-process
//! chain. Every refusal asserts its status and message.

use gpu_market_agent::{
    api::{ApiServer, JobBook, Limits, Tls, SEALED_FILE},
    executor::{LocalProcessExecutor, RESULT_FILE},
    Agent, AgentConfig, AgentEvent,
};
use gpu_market_client::{
    archive,
    escrow::{Job, JobStatus},
    manifest::{InputDigest, ManifestFile},
    node_api::{self, NodeClient, NodeError, SignedHeaders},
    registry, Chain, Keypair, Pubkey, Signer,
};
use gpu_market_tests::{escrow::*, fixtures::*};
use std::{
    collections::BTreeMap,
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    sync::Arc,
};

const SECRET: &str = "hf_9f8e7d6c5b4a-never-logged";
const RETENTION: i64 = 7 * 86_400;
const UPLOAD_TIMEOUT: i64 = 900;

fn status(m: &mut Market, job: &Pubkey) -> Option<JobStatus> {
    m.chain
        .exists(job)
        .unwrap()
        .then(|| m.chain.fetch::<Job>(job).unwrap().status)
}

/// A node: its book, API server and agent, on a work directory that outlives restarts.
struct Node {
    book: Arc<JobBook>,
    server: ApiServer,
    agent: Agent,
}

/// A market with one provider whose endpoint is a node served on loopback.
fn market_with_node() -> (Market, Wallet, Scenario, tempfile::TempDir, String, Node) {
    let mut m = Market::with_escrow();
    let provider = m.provider(1);
    let s = Scenario::new(&mut m, 1, &[&provider], &[]);
    let root = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let node = start_node(&provider.keypair, root.path(), listener);
    m.send(
        registry::update_provider(
            &provider.pubkey(),
            &provider.pubkey(),
            provider_registry::UpdateProviderArgs {
                endpoint: Some(url.clone()),
                region: None,
                hardware: None,
                benchmark_score: None,
                price_per_gpu_hour: None,
                payment_mint: None,
            },
        ),
        &provider.keypair,
    )
    .unwrap();
    (m, provider, s, root, url, node)
}

fn start_node(provider: &Keypair, root: &Path, listener: TcpListener) -> Node {
    let book =
        Arc::new(JobBook::open(root, provider.insecure_clone(), Limits::default()).expect("book"));
    let server = ApiServer::start(book.clone(), listener).expect("server");
    let agent = Agent::new(
        provider.insecure_clone(),
        provider.pubkey(),
        Box::new(LocalProcessExecutor::new()),
        AgentConfig {
            work_dir: root.to_path_buf(),
            withdraw_every: 600,
        },
    )
    .with_api(book.clone(), RETENTION, UPLOAD_TIMEOUT);
    Node {
        book,
        server,
        agent,
    }
}

/// Ticks the node's agent every `step` chain seconds until `done` holds.
fn serve_until(
    m: &mut Market,
    node: &mut Node,
    step: i64,
    done: impl FnMut(&mut Market, &[AgentEvent]) -> bool,
) -> Vec<AgentEvent> {
    crate::agent::serve_until(m, &mut node.agent, step, done)
}

/// The job's inputs on the client's disk, packed.
fn inputs(dir: &Path) -> (PathBuf, InputDigest) {
    let data = dir.join("data");
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("a.txt"), b"the client's data\n").unwrap();
    let tar = dir.join("input.tar");
    let (sha256, bytes) = archive::pack(&[data], &tar).unwrap();
    (tar, InputDigest { sha256, bytes })
}

const WORKLOAD: &str = r#"
command = ["sh", "-c", "echo started; while [ ! -e \"$GPU_MARKET_WORK_DIR/go\" ]; do sleep 0.05; done; cp \"$GPU_MARKET_INPUT_DIR/data/a.txt\" \"$GPU_MARKET_OUTPUT_DIR/out.txt\"; echo \"model=$MODEL token=${HF_TOKEN:+set}\"; echo oops >&2; echo done"]
secrets = ["HF_TOKEN"]
inputs = ["data"]

[env]
MODEL = "tiny"
"#;

/// Every file under `dir`, read.
fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else {
            out.push((path.clone(), fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn refused(result: Result<impl std::fmt::Debug, NodeError>) -> (u16, String) {
    match result {
        Err(NodeError::Refused { status, message }) => (status, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A request signed at `timestamp`, sent as is (twice when asked), for the attacks the
/// client library never makes.
fn raw_get(path: &str, signer: &Keypair, job: &Pubkey, timestamp: i64) -> SignedHeaders {
    SignedHeaders::sign(signer, "GET", path, job, timestamp, node_api::sha256(b""))
}

fn send_raw(url: &str, path: &str, signed: &SignedHeaders) -> (u16, String) {
    let request = signed.pairs().into_iter().fold(
        reqwest::blocking::Client::new().get(format!("{url}{path}")),
        |r, (k, v)| r.header(k, v),
    );
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().unwrap_or_default();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn a_startup_runs_a_job_with_inputs_and_a_secret_follows_its_logs_and_downloads_verified_results() {
    let (mut m, provider, s, root, url, mut node) = market_with_node();

    // The client writes job.toml, packs its inputs and posts the job.
    let client_dir = tempfile::tempdir().unwrap();
    let (tar, digest) = inputs(client_dir.path());
    let manifest = ManifestFile::parse(WORKLOAD)
        .unwrap()
        .resolve(Some(digest))
        .unwrap();
    let job = job_escrow::CreateJobArgs {
        workload: manifest.workload(),
        ..batch_job(1, 1)
    };
    m.create_job(&s.client, job).unwrap();

    // The node takes and starts it, then waits for the uploads.
    let events = serve_until(&mut m, &mut node, 10, |_, events| {
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::Waiting { .. }))
    });
    assert!(events.contains(&AgentEvent::Waiting {
        job: s.job,
        waiting_for: vec!["manifest".into()]
    }));
    assert_eq!(status(&mut m, &s.job), Some(JobStatus::Running));

    let client = NodeClient::new(&url, &s.client.keypair).unwrap();
    // A stranger, an unknown job, a stale and a replayed signature are refused.
    let stranger_key = Keypair::new();
    let stranger = NodeClient::new(&url, &stranger_key).unwrap();
    assert_eq!(
        refused(stranger.status(&s.job)),
        (
            403,
            format!(
                "only the client of job {} ({}) may use it; the request is signed by {}",
                s.job,
                s.client.pubkey(),
                stranger_key.pubkey()
            )
        )
    );
    let unknown = Pubkey::new_unique();
    let (code, message) = refused(client.status(&unknown));
    assert_eq!(code, 404);
    assert!(
        message.starts_with(&format!("this node holds no job {unknown}")),
        "{message}"
    );
    let path = format!("/v1/jobs/{}", s.job);
    let now = node_api::unix_now();
    let stale = raw_get(&path, &s.client.keypair, &s.job, now - 120);
    let (code, message) = send_raw(&url, &path, &stale);
    assert_eq!(code, 401);
    assert!(message.contains("from the node's clock"), "{message}");
    let fresh = raw_get(&path, &s.client.keypair, &s.job, now);
    assert_eq!(send_raw(&url, &path, &fresh).0, 200);
    assert_eq!(
        send_raw(&url, &path, &fresh),
        (
            401,
            "this signature was already used; sign every request anew".into()
        )
    );
    let mut forged = raw_get(&path, &stranger_key, &s.job, now);
    forged.signer = s.client.pubkey();
    assert_eq!(
        send_raw(&url, &path, &forged),
        (401, "the signature does not match the request".into())
    );
    let unsigned = reqwest::blocking::get(format!("{url}{path}")).unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);

    // Uploads in order; a manifest or input other than what the chain pins is refused.
    let status_now = client.status(&s.job).unwrap();
    assert_eq!(status_now.state, "waiting");
    assert_eq!(status_now.waiting_for, vec!["manifest"]);
    let (code, message) = refused(client.put_input(&s.job, &tar, digest.sha256, |_| {}));
    assert_eq!(code, 409);
    assert!(
        message.starts_with("upload the job's manifest first"),
        "{message}"
    );
    let mut other = manifest.clone();
    other.args.push("--evil".into());
    let (code, message) = refused(client.put_manifest(&s.job, &other.canonical_bytes()));
    assert_eq!(code, 422);
    assert!(message.starts_with("the manifest hashes to"), "{message}");
    client
        .put_manifest(&s.job, &manifest.canonical_bytes())
        .unwrap();

    let wrong = client_dir.path().join("wrong.tar");
    fs::write(client_dir.path().join("data/a.txt"), b"tampered\n").unwrap();
    let (wrong_sha, _) = archive::pack(&[client_dir.path().join("data")], &wrong).unwrap();
    assert_eq!(
        refused(client.put_input(&s.job, &wrong, wrong_sha, |_| {})),
        (
            422,
            format!(
                "the upload's SHA-256 is {} but the manifest pins {}",
                gpu_market_client::hex::encode(&wrong_sha),
                gpu_market_client::hex::encode(&digest.sha256)
            )
        )
    );
    // Signed with the pinned hash, other bytes: refused after the stream, nothing kept.
    assert_eq!(
        refused(client.put_input(&s.job, &wrong, digest.sha256, |_| {})),
        (
            422,
            format!(
                "the uploaded bytes hash to {}, not the {} the manifest pins; nothing was kept",
                gpu_market_client::hex::encode(&wrong_sha),
                gpu_market_client::hex::encode(&digest.sha256)
            )
        )
    );
    let workdir = node.book.workdir(&s.job);
    assert!(!workdir.join("input").exists());
    assert!(!workdir.join("input.tar.part").exists());

    let progress = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = progress.clone();
    client
        .put_input(&s.job, &tar, digest.sha256, move |n| {
            seen.store(n, std::sync::atomic::Ordering::SeqCst)
        })
        .unwrap();
    assert_eq!(
        progress.load(std::sync::atomic::Ordering::SeqCst),
        digest.bytes
    );
    assert_eq!(client.status(&s.job).unwrap().waiting_for, vec!["secrets"]);

    // The secret is sealed to the operator; the wrong names or a wrong key are refused.
    let operator = provider.pubkey();
    let wrong_names = BTreeMap::from([("OTHER".to_owned(), "x".to_owned())]);
    let (code, message) = refused(client.put_secrets(
        &s.job,
        node_api::seal_secrets(&operator, &wrong_names).unwrap(),
    ));
    assert_eq!(code, 422);
    assert_eq!(
        message,
        r#"the manifest names the secrets ["HF_TOKEN"]; the upload holds ["OTHER"]"#
    );
    let secrets = BTreeMap::from([("HF_TOKEN".to_owned(), SECRET.to_owned())]);
    assert_eq!(
        refused(client.put_secrets(
            &s.job,
            node_api::seal_secrets(&Keypair::new().pubkey(), &secrets).unwrap()
        )),
        (
            422,
            "the secrets do not open with this node's operator key".into()
        )
    );
    client
        .put_secrets(&s.job, node_api::seal_secrets(&operator, &secrets).unwrap())
        .unwrap();

    // The workload starts; its log is followed while it runs.
    serve_until(&mut m, &mut node, 10, |_, events| {
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::Launched { .. }))
    });
    let mut log = Vec::new();
    let mut offset = 0;
    while !contains(&log, "started\n") {
        let chunk = client.logs(&s.job, offset, 5).unwrap();
        assert!(!chunk.done, "the workload waits for its go file");
        log.extend(chunk.bytes);
        offset = chunk.next;
    }
    assert_eq!(status(&mut m, &s.job), Some(JobStatus::Running));
    fs::write(workdir.join("go"), b"").unwrap();

    let events = serve_until(&mut m, &mut node, 10, |m, _| {
        status(m, &s.job) == Some(JobStatus::ResultSubmitted)
    });
    loop {
        let chunk = client.logs(&s.job, offset, 5).unwrap();
        log.extend(chunk.bytes);
        offset = chunk.next;
        if chunk.done {
            break;
        }
    }
    assert_eq!(
        String::from_utf8(log.clone()).unwrap(),
        "started\nmodel=tiny token=set\noops\ndone\ngpu-market: the workload exited with status 0\n"
    );

    // The chain commits the result tar's hash and its URL at the node.
    let on_chain = m.job(&s.client.pubkey(), 1).result.expect("a result");
    assert_eq!(on_chain.uri, format!("{url}/v1/jobs/{}/result", s.job));
    let served = fs::read(workdir.join(RESULT_FILE)).unwrap();
    assert_eq!(on_chain.hash, node_api::sha256(&served));
    assert!(events.iter().any(|e| matches!(e,
        AgentEvent::Submitted { job, bytes, .. } if *job == s.job && *bytes == served.len() as u64)));

    let out = tempfile::tempdir().unwrap();
    let bytes = client
        .download_verified(
            &s.job,
            &on_chain.uri,
            &on_chain.hash,
            out.path(),
            1 << 30,
            |_, _| {},
        )
        .unwrap();
    assert_eq!(bytes, served.len() as u64);
    assert_eq!(
        fs::read(out.path().join("out.txt")).unwrap(),
        b"the client's data\n"
    );
    // A stranger cannot fetch it.
    assert_eq!(
        refused(stranger.download(
            &s.job,
            &on_chain.uri,
            &out.path().join("x"),
            1 << 20,
            |_, _| {}
        ))
        .0,
        403
    );

    // The secret is in no log, no file of the node and no account on chain.
    for (path, bytes) in all_files(root.path()) {
        assert!(
            !contains(&bytes, SECRET),
            "{} holds the secret",
            path.display()
        );
    }
    for address in [s.job, gpu_market_client::pda::provider(&provider.pubkey())] {
        let account = m.chain.account(&address).unwrap().unwrap();
        assert!(!contains(&account.data, SECRET));
    }
    assert!(!contains(&log, SECRET));

    // A tampered result is caught before anything is unpacked.
    let mut tampered = served.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    fs::write(workdir.join(RESULT_FILE), &tampered).unwrap();
    let out2 = tempfile::tempdir().unwrap();
    let err = client
        .download_verified(
            &s.job,
            &on_chain.uri,
            &on_chain.hash,
            out2.path(),
            1 << 30,
            |_, _| {},
        )
        .unwrap_err();
    assert!(
        matches!(&err, NodeError::ResultMismatch { expected, actual }
            if *expected == on_chain.hash && *actual == node_api::sha256(&tampered)),
        "{err:?}"
    );
    assert!(err.to_string().contains("gpu-market job dispute"), "{err}");
    assert_eq!(
        fs::read_dir(out2.path()).unwrap().count(),
        0,
        "nothing kept"
    );
    fs::write(workdir.join(RESULT_FILE), &served).unwrap();

    // After an agent restart the logs and the result are still served, to the client only.
    let addr = node.server.addr();
    drop(node);
    let listener = TcpListener::bind(addr).unwrap();
    let mut node = start_node(&provider.keypair, root.path(), listener);
    let chunk = client.logs(&s.job, 0, 0).unwrap();
    assert_eq!(chunk.bytes, log);
    assert!(chunk.done);
    // The secrets were kept sealed to the operator key only, and open again.
    assert_eq!(node.book.secrets(&s.job), Some(secrets.clone()));
    assert_eq!(refused(stranger.logs(&s.job, 0, 0)).0, 403);

    // The client approves; the job closes on chain, and the node keeps its files for the
    // retention period, then removes them.
    let keys = s.keys(&m, &s.client.pubkey(), &provider.pubkey());
    signed(
        &mut m,
        gpu_market_client::escrow::approve_result(&keys),
        &s.client.keypair,
    )
    .unwrap();
    node.agent.tick(&mut m.chain).unwrap();
    assert!(node.book.access(&s.job).unwrap().ended_at.is_some());
    assert_eq!(node.book.secrets(&s.job), None);
    assert!(!workdir.join(SEALED_FILE).exists());
    assert_eq!(client.status(&s.job).unwrap().state, "ended");
    assert_eq!(client.logs(&s.job, 0, 0).unwrap().bytes, log);
    let (code, message) = refused(client.put_manifest(&s.job, &manifest.canonical_bytes()));
    assert_eq!(code, 409);
    assert_eq!(
        message,
        format!("job {} has ended on this node; it takes no uploads", s.job)
    );
    m.chain.advance(RETENTION + 60).unwrap();
    node.agent.tick(&mut m.chain).unwrap();
    assert!(!workdir.exists());
    assert_eq!(refused(client.logs(&s.job, 0, 0)).0, 404);
}

#[test]
fn a_job_whose_client_never_uploads_ends_with_an_empty_result_not_a_slash() {
    let (mut m, _provider, s, _root, url, mut node) = market_with_node();
    let manifest = ManifestFile::parse("command = [\"true\"]")
        .unwrap()
        .resolve(None)
        .unwrap();
    let job = job_escrow::CreateJobArgs {
        workload: manifest.workload(),
        ..batch_job(1, 1)
    };
    m.create_job(&s.client, job).unwrap();

    // Started, then waiting; past the upload timeout the node submits an empty result.
    let events = serve_until(&mut m, &mut node, 60, |m, _| {
        status(m, &s.job) == Some(JobStatus::ResultSubmitted)
    });
    let reason = format!(
        "the client's uploads did not arrive within {UPLOAD_TIMEOUT} s of the start; nothing ran, and the result is empty"
    );
    assert!(events.contains(&AgentEvent::WorkloadFailed {
        job: s.job,
        reason: reason.clone()
    }));
    let on_chain = m.job(&s.client.pubkey(), 1);
    let result = on_chain.result.expect("a result");
    assert!(result.submitted_at - on_chain.started_at > UPLOAD_TIMEOUT);
    let empty = tempfile::tempdir().unwrap();
    fs::create_dir(empty.path().join("output")).unwrap();
    let (empty_sha, _) =
        archive::pack_dir(&empty.path().join("output"), &empty.path().join("e.tar")).unwrap();
    assert_eq!(result.hash, empty_sha);

    // The client sees why.
    let client = NodeClient::new(&url, &s.client.keypair).unwrap();
    let log = client.logs(&s.job, 0, 0).unwrap();
    assert_eq!(log.bytes, format!("gpu-market: {reason}\n").into_bytes());
    assert!(log.done);
    let out = tempfile::tempdir().unwrap();
    client
        .download_verified(
            &s.job,
            &result.uri,
            &result.hash,
            out.path(),
            1 << 20,
            |_, _| {},
        )
        .unwrap();
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn the_job_api_serves_https_and_its_clients_check_the_certificate() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls");
    let root = tempfile::tempdir().unwrap();
    let operator = Keypair::new();
    let client = Keypair::new();
    let job = Pubkey::new_unique();
    let manifest = ManifestFile::parse(r#"command = ["true"]"#)
        .unwrap()
        .resolve(None)
        .unwrap();
    let book = Arc::new(JobBook::open(root.path(), operator, Limits::default()).unwrap());
    book.hold(&job, &client.pubkey(), &manifest.workload())
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = Tls::from_pem_files(&fixtures.join("cert.pem"), &fixtures.join("key.pem")).unwrap();
    let _server = ApiServer::start_tls(book, listener, tls).unwrap();

    // A client that trusts the certificate gets its signed answer over https.
    let cert = fs::read(fixtures.join("cert.pem")).unwrap();
    let https = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .build()
        .unwrap();
    let path = format!("/v1/jobs/{job}");
    let get = |signer: &Keypair| {
        let signed = raw_get(&path, signer, &job, node_api::unix_now());
        let request = signed.pairs().into_iter().fold(
            https.get(format!("https://localhost:{port}{path}")),
            |r, (k, v)| r.header(k, v),
        );
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        (status, response.json::<serde_json::Value>().unwrap())
    };
    let (status, body) = get(&client);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "waiting");
    assert_eq!(body["waiting_for"], serde_json::json!(["manifest"]));
    assert_eq!(get(&Keypair::new()).0, 403);

    // Plain HTTP gets no answer, and the SDK's client, which trusts only the public
    // roots, refuses the self-signed certificate.
    assert!(reqwest::blocking::get(format!("http://127.0.0.1:{port}{path}")).is_err());
    let sdk = NodeClient::new(&format!("https://localhost:{port}"), &client).unwrap();
    assert!(matches!(
        sdk.status(&job),
        Err(NodeError::Unreachable { .. })
    ));
    // Bad files are refused with the path that is wrong.
    let missing = Tls::from_pem_files(&fixtures.join("nope.pem"), &fixtures.join("key.pem"));
    assert!(missing.err().unwrap().to_string().contains("nope.pem"));
}

/// A free port on 127.0.0.1 for the lease's service.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A request to a lease's service through the node, with `token` if any.
fn through_node(
    url: &str,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: &str,
) -> (u16, String) {
    let mut request = reqwest::blocking::Client::new()
        .request(method, format!("{url}{path}"))
        .header("x-caller", "startup")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.header(node_api::SERVICE_TOKEN_HEADER, token);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    let error = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned));
    (status, error.unwrap_or(text))
}

#[test]
fn a_lease_service_is_reached_through_the_node_by_its_client_only_and_closes_with_the_lease() {
    let (mut m, provider, s, _root, url, mut node) = market_with_node();
    let port = free_port();
    let manifest = ManifestFile::parse(&format!(
        r#"
command = ["{}", "{port}"]

[[ports]]
port = {port}
health = "/health"
"#,
        env!("CARGO_BIN_EXE_lease-echo")
    ))
    .unwrap()
    .resolve(None)
    .unwrap();
    let job = job_escrow::CreateJobArgs {
        workload: manifest.workload(),
        ..lease_job(1, 1, 1)
    };
    m.create_job(&s.client, job).unwrap();
    serve_until(&mut m, &mut node, 10, |_, events| {
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::Waiting { .. }))
    });
    let client = NodeClient::new(&url, &s.client.keypair).unwrap();
    let base = format!("/v1/jobs/{}/service/{port}", s.job);
    let now = node_api::unix_now();
    let token = node_api::ServiceToken::issue(&s.client.keypair, &s.job, now + 3_600).to_string();

    // Before the manifest is there, nothing runs.
    assert_eq!(
        through_node(
            &url,
            Some(&token),
            reqwest::Method::GET,
            &format!("{base}/"),
            ""
        ),
        (
            503,
            format!(
                "job {} has not started: its manifest was not uploaded",
                s.job
            )
        )
    );
    client
        .put_manifest(&s.job, &manifest.canonical_bytes())
        .unwrap();
    serve_until(&mut m, &mut node, 10, |_, events| {
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::Launched { .. }))
    });
    // The service comes up; the node reports its health to the client.
    let mut health = BTreeMap::new();
    for _ in 0..100 {
        health = client.status(&s.job).unwrap().health;
        if health.get(&port).map(String::as_str) == Some("up") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(health, BTreeMap::from([(port, "up".to_owned())]));

    // The client's token reaches it, with the path, query, headers and body; the token
    // itself is not passed on.
    let (code, echo) = through_node(
        &url,
        Some(&token),
        reqwest::Method::POST,
        &format!("{base}/v1/generate?n=2"),
        "a prompt",
    );
    assert_eq!(code, 200, "{echo}");
    let (head, body) = echo.split_once("\n\n").unwrap();
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("POST /v1/generate?n=2 HTTP/1.1"));
    let headers: Vec<&str> = lines.collect();
    assert!(headers.contains(&"x-caller: startup"), "{headers:?}");
    assert!(
        headers.contains(&format!("x-forwarded-prefix: {base}").as_str()),
        "{headers:?}"
    );
    assert!(
        !headers.iter().any(|h| h.starts_with("x-gpu-market")),
        "{headers:?}"
    );
    assert_eq!(body, "a prompt");
    let (code, echo) = through_node(&url, Some(&token), reqwest::Method::GET, &base, "");
    assert_eq!(code, 200);
    assert!(echo.starts_with("GET / HTTP/1.1\n"), "{echo}");

    // Anyone else is refused, each with the reason.
    assert_eq!(
        through_node(&url, None, reqwest::Method::GET, &base, ""),
        (
            401,
            format!(
                "the request carries no x-gpu-market-token header; the job's client gets one with `gpu-market job endpoint {}`",
                s.job
            )
        )
    );
    let stranger = node_api::ServiceToken::issue(&Keypair::new(), &s.job, now + 3_600).to_string();
    assert_eq!(
        through_node(&url, Some(&stranger), reqwest::Method::GET, &base, ""),
        (
            403,
            "the service token is not signed by the job's client".into()
        )
    );
    let expired = node_api::ServiceToken::issue(&s.client.keypair, &s.job, now - 1);
    assert_eq!(
        through_node(
            &url,
            Some(&expired.to_string()),
            reqwest::Method::GET,
            &base,
            ""
        ),
        (
            401,
            format!(
                "the service token expired at {}; get a new one with `gpu-market job endpoint`",
                now - 1
            )
        )
    );
    assert_eq!(
        through_node(&url, Some("soon"), reqwest::Method::GET, &base, ""),
        (401, "header x-gpu-market-token is malformed".into())
    );
    let other_job = Pubkey::new_unique();
    let elsewhere =
        node_api::ServiceToken::issue(&s.client.keypair, &other_job, now + 3_600).to_string();
    assert_eq!(
        through_node(
            &url,
            Some(&elsewhere),
            reqwest::Method::GET,
            &format!("/v1/jobs/{other_job}/service/{port}/"),
            "",
        ),
        (
            404,
            format!("this node holds no job {other_job} (not assigned here, or its files were removed after the retention period)")
        )
    );
    // A token for this job does not open a port its manifest does not expose.
    let other_port = if port == 1 { 2 } else { port - 1 };
    assert_eq!(
        through_node(
            &url,
            Some(&token),
            reqwest::Method::GET,
            &format!("/v1/jobs/{}/service/{other_port}/", s.job),
            ""
        ),
        (
            404,
            format!(
                "job {} exposes no port {other_port}; its manifest exposes [{port}]",
                s.job
            )
        )
    );

    // The client closes the lease: the node stops the service and the URL is closed.
    let keys = s.keys(&m, &s.client.pubkey(), &provider.pubkey());
    signed(
        &mut m,
        gpu_market_client::escrow::close_lease(&keys),
        &s.client.keypair,
    )
    .unwrap();
    serve_until(&mut m, &mut node, 10, |_, events| {
        events
            .iter()
            .any(|e| matches!(e, AgentEvent::Released { .. }))
    });
    assert_eq!(
        through_node(&url, Some(&token), reqwest::Method::GET, &base, ""),
        (
            410,
            format!(
                "job {} has ended on this node; its service is closed",
                s.job
            )
        )
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the service still listens after the lease closed"
    );
}

/// A matcher's health check: the node answers with the operator key it serves; a probe
/// expecting another operator, an address nothing listens on, or a plain-HTTP remote host
/// is refused with what went wrong.
#[test]
fn the_health_check_names_the_nodes_operator() {
    let (_m, provider, _s, _root, url, _node) = market_with_node();
    let timeout = std::time::Duration::from_secs(2);
    node_api::probe(&url, &provider.pubkey(), timeout).unwrap();
    let body = reqwest::blocking::get(format!("{url}/v1/health"))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(body, format!("{{\"operator\":\"{}\"}}", provider.pubkey()));
    let other = Pubkey::new_unique();
    let (status, message) = refused(node_api::probe(&url, &other, timeout));
    assert_eq!(status, 200);
    assert_eq!(
        message,
        format!(
            "the node there serves operator {}, not {other}",
            provider.pubkey()
        )
    );
    // Nothing listens on a port just freed.
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    assert!(matches!(
        node_api::probe(&gone, &provider.pubkey(), timeout),
        Err(NodeError::Unreachable { .. })
    ));
    assert!(matches!(
        node_api::probe("http://node.example:8443", &provider.pubkey(), timeout),
        Err(NodeError::Url(_))
    ));
    // Nothing but scheme, host, port and path from the provider reaches the request.
    for crafted in [
        format!("{url}/admin?x="),
        format!("{url}#frag"),
        url.replace("http://", "http://user:pw@"),
    ] {
        assert!(
            matches!(
                node_api::probe(&crafted, &provider.pubkey(), timeout),
                Err(NodeError::Url(_))
            ),
            "{crafted}"
        );
    }
}
