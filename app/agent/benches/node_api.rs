//! The node's job API on loopback: upload and download throughput of a 256 MiB archive and
//! the latency from a line written to a job's log to a following client receiving it.
//!
//! `cargo bench -p gpu-market-agent --bench node_api`

use gpu_market_agent::{
    api::{ApiServer, JobBook, Limits},
    executor::{LOG_FILE, MARKER_FILE, RESULT_FILE},
};
use gpu_market_client::{
    archive,
    manifest::{InputDigest, ManifestFile},
    node_api::NodeClient,
    Keypair, Pubkey, Signer,
};
use std::{
    fs,
    io::Write,
    net::TcpListener,
    sync::mpsc,
    time::{Duration, Instant},
};

const SIZE: usize = 256 << 20;
const LINES: usize = 50;

fn mib_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / elapsed.as_secs_f64()
}

/// Incompressible-looking bytes without a random-number crate.
fn payload() -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..SIZE)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    fs::create_dir_all(&data).expect("data dir");
    fs::write(data.join("weights.bin"), payload()).expect("payload");
    let tar = dir.path().join("input.tar");
    let (sha256, bytes) = archive::pack(&[data], &tar).expect("pack");
    let manifest = ManifestFile::parse(r#"command = ["true"]"#)
        .expect("toml")
        .resolve(Some(InputDigest { sha256, bytes }))
        .expect("manifest");

    let operator = Keypair::new();
    let client_key = Keypair::new();
    let job = Pubkey::new_unique();
    let root = dir.path().join("node");
    let book = std::sync::Arc::new(
        JobBook::open(&root, operator.insecure_clone(), Limits::default()).expect("book"),
    );
    book.hold(&job, &client_key.pubkey(), &manifest.workload())
        .expect("hold");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let _server = ApiServer::start(book.clone(), listener).expect("server");
    let client = NodeClient::new(&url, &client_key).expect("client");
    client
        .put_manifest(&job, &manifest.canonical_bytes())
        .expect("manifest upload");

    // Upload: streamed, hashed, checked against the pin and unpacked by the node.
    let started = Instant::now();
    client
        .put_input(&job, &tar, sha256, |_| {})
        .expect("input upload");
    let upload = started.elapsed();
    println!(
        "upload   {} MiB in {:.2} s: {:.0} MiB/s (stream, hash, check, unpack)",
        bytes >> 20,
        upload.as_secs_f64(),
        mib_per_s(bytes, upload)
    );

    // Download: the same archive served as the job's result, hashed and unpacked by the
    // client.
    let workdir = book.workdir(&job);
    fs::copy(&tar, workdir.join(RESULT_FILE)).expect("result");
    fs::write(workdir.join(MARKER_FILE), "exit=0\n").expect("marker");
    let result_url = format!("{url}/v1/jobs/{job}/result");
    let out = dir.path().join("download.tar");
    let started = Instant::now();
    let (got, got_bytes) = client
        .download(&job, &result_url, &out, u64::MAX, |_, _| {})
        .expect("download");
    let download = started.elapsed();
    assert_eq!(got, sha256);
    println!(
        "download {} MiB in {:.2} s: {:.0} MiB/s (stream and hash)",
        got_bytes >> 20,
        download.as_secs_f64(),
        mib_per_s(got_bytes, download)
    );
    let unpack_dir = dir.path().join("results");
    let started = Instant::now();
    client
        .download_verified(&job, &result_url, &sha256, &unpack_dir, u64::MAX, |_, _| {})
        .expect("verified download");
    let verified = started.elapsed();
    println!(
        "verified download {} MiB in {:.2} s: {:.0} MiB/s (stream, hash, check, unpack)",
        got_bytes >> 20,
        verified.as_secs_f64(),
        mib_per_s(got_bytes, verified)
    );
    fs::remove_file(workdir.join(MARKER_FILE)).expect("unmark");

    // Log latency: a follower long-polls while lines are appended every 100 ms.
    let log_path = workdir.join(LOG_FILE);
    let (seen, arrivals) = mpsc::channel::<(usize, Instant)>();
    let follower_key = client_key.insecure_clone();
    let follower_url = url.clone();
    let follower = std::thread::spawn(move || {
        let client = NodeClient::new(&follower_url, &follower_key).expect("client");
        let mut offset = 0;
        let mut lines = 0;
        while lines < LINES {
            let chunk = client.logs(&job, offset, 25).expect("logs");
            let now = Instant::now();
            for _ in chunk.bytes.iter().filter(|b| **b == b'\n') {
                seen.send((lines, now)).expect("send");
                lines += 1;
            }
            offset = chunk.next;
        }
    });
    let mut written = Vec::with_capacity(LINES);
    let mut log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .expect("log");
    for i in 0..LINES {
        std::thread::sleep(Duration::from_millis(100));
        writeln!(log, "step {i}").expect("write");
        written.push(Instant::now());
    }
    follower.join().expect("follower");
    let mut latencies: Vec<Duration> = arrivals
        .iter()
        .map(|(i, at)| at.saturating_duration_since(written[i]))
        .collect();
    latencies.sort();
    println!(
        "log latency over {LINES} lines: median {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        latencies[LINES / 2].as_secs_f64() * 1e3,
        latencies[LINES * 95 / 100].as_secs_f64() * 1e3,
        latencies[LINES - 1].as_secs_f64() * 1e3
    );
}
