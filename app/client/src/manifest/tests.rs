use super::*;

const TOML: &str = r#"
image = "ghcr.io/acme/train"
digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
args = ["--epochs", "3"]
secrets = ["WANDB_KEY", "HF_TOKEN"]
inputs = ["data", "config.json"]

[env]
MODEL = "llama-3-8b"
BATCH = "32"

[[ports]]
port = 8000
health = "/health"
"#;

fn digest() -> InputDigest {
    InputDigest {
        sha256: [2; 32],
        bytes: 10_240,
    }
}

#[test]
fn a_toml_manifest_resolves_to_canonical_bytes_the_chain_pins() {
    let file = ManifestFile::parse(TOML).unwrap();
    assert_eq!(
        file.inputs,
        vec![PathBuf::from("data"), PathBuf::from("config.json")]
    );
    let manifest = file.resolve(Some(digest())).unwrap();
    assert_eq!(manifest.secrets, vec!["HF_TOKEN", "WANDB_KEY"]);
    assert_eq!(manifest.output_dir, DEFAULT_OUTPUT_DIR);
    let bytes = manifest.canonical_bytes();
    // env is sorted, so the same manifest written in another order hashes the same.
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.contains(r#""env":{"BATCH":"32","MODEL":"llama-3-8b"}"#),
        "{text}"
    );
    let workload = manifest.workload();
    assert_eq!(workload.uri, "manifest:oci://ghcr.io/acme/train");
    assert_eq!(
        workload.content_hash,
        solana_sha256_hasher::hash(&bytes).to_bytes()
    );
    assert_eq!(
        Manifest::from_canonical(&bytes, &workload.content_hash).unwrap(),
        manifest
    );
    assert_eq!(manifest.image_digest(), Some([0x11; 32]));
}

#[test]
fn a_node_refuses_bytes_that_are_not_what_the_chain_pins() {
    let manifest = ManifestFile::parse(TOML).unwrap().resolve(None).unwrap();
    let bytes = manifest.canonical_bytes();
    let pinned = manifest.content_hash();
    let mut other = manifest.clone();
    other.args.push("--evil".into());
    assert_eq!(
        Manifest::from_canonical(&other.canonical_bytes(), &pinned),
        Err(ManifestError::HashMismatch {
            actual: other.content_hash(),
            pinned
        })
    );
    // Same JSON value, other bytes: pinned by a client that hashed them, still refused.
    let spaced = serde_json::to_vec_pretty(&manifest).unwrap();
    let spaced_hash = solana_sha256_hasher::hash(&spaced).to_bytes();
    assert_eq!(
        Manifest::from_canonical(&spaced, &spaced_hash),
        Err(ManifestError::NotCanonical)
    );
    let huge = vec![b' '; MAX_MANIFEST_BYTES + 1];
    assert_eq!(
        Manifest::from_canonical(&huge, &pinned),
        Err(ManifestError::TooLarge(MAX_MANIFEST_BYTES + 1))
    );
    assert!(Manifest::from_canonical(&bytes, &pinned).is_ok());
}

fn refused(toml: &str) -> String {
    match ManifestFile::parse(toml).and_then(|f| f.resolve(None)) {
        Err(e) => e.to_string(),
        Ok(m) => panic!("accepted {m:?}"),
    }
}

#[test]
fn what_a_node_cannot_run_safely_is_refused_with_the_reason() {
    let digest = "sha256:".to_owned() + &"ab".repeat(32);
    assert_eq!(
        refused(r#"image = "ghcr.io/acme/train""#),
        "the manifest gives an image without its digest"
    );
    assert_eq!(
        refused(&format!("image = \"--privileged\"\ndigest = \"{digest}\"")),
        "the manifest image must start with a letter or digit"
    );
    assert_eq!(
        refused(&format!("image = \"a@sha256:00\"\ndigest = \"{digest}\"")),
        "the manifest image must not carry a digest of its own; give it as `digest`"
    );
    assert_eq!(
        refused(
            r#"image = "a"
digest = "sha256:xyz""#
        ),
        "the manifest digest \"sha256:xyz\" is not sha256: followed by 64 hex digits"
    );
    assert_eq!(refused(r#"command = []"#), "the manifest command is empty");
    assert_eq!(
        refused("command = [\"sh\"]\n[env]\nGPU_MARKET_JOB = \"x\""),
        "the manifest variable GPU_MARKET_JOB is reserved: the node sets GPU_MARKET_* itself"
    );
    assert_eq!(
        refused("command = [\"sh\"]\n[env]\nNVIDIA_VISIBLE_DEVICES = \"all\""),
        "the manifest variable NVIDIA_VISIBLE_DEVICES is reserved: the node decides which GPUs a job sees"
    );
    assert_eq!(
        refused("command = [\"sh\"]\nsecrets = [\"A\"]\n[env]\nA = \"x\""),
        "the manifest names A both as a public variable and as a secret"
    );
    assert_eq!(
        refused("command = [\"sh\"]\noutput_dir = \"/../etc\""),
        "the manifest output_dir \"/../etc\" must be an absolute path of letters, digits and /._- (not /)"
    );
    assert!(refused("command = [\"sh\"]\nbogus = 1").starts_with("the manifest is not valid TOML"));
    assert_eq!(
        refused(&format!(
            "command = [\"sh\"]\nargs = [{}]",
            vec!["\"a\""; MAX_ARGS].join(",")
        )),
        format!(
            "the manifest has {} arguments; at most {MAX_ARGS}",
            MAX_ARGS + 1
        )
    );
}
