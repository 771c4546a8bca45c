//! The Solana CLI's conventions, so that gpu-market finds the same cluster and wallet as
//! `solana` does: its cluster shortcuts (`-u devnet`), its config file
//! (`~/.config/solana/cli/config.yml`) as the fallback for `-u` and `-k`, and its JSON
//! byte-array keypair files.

use solana_keypair::Keypair;
use std::{
    fs, io,
    path::{Path, PathBuf},
};

/// The cluster used when neither `-u` nor the Solana CLI config names one: a local
/// validator, as with the Solana CLI.
pub const DEFAULT_URL: &str = "http://localhost:8899";

/// Why the cluster URL or a keypair could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `-u` was neither a URL nor a known cluster name.
    #[error(
        "unknown cluster {0:?}: pass an http(s) URL or one of l/localhost, d/devnet, \
         t/testnet, m/mainnet-beta"
    )]
    UnknownCluster(String),
    /// The Solana CLI config file exists but could not be read.
    #[error("cannot read the Solana CLI config {path}: {source}")]
    ReadConfig {
        /// The config file.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
    /// No keypair file at the path.
    #[error(
        "keypair file {} not found: create one with `gpu-market keygen -o {}` (no Solana CLI \
         needed) or pass -k",
        path.display(),
        path.display()
    )]
    KeypairNotFound {
        /// The missing file.
        path: PathBuf,
    },
    /// The keypair file exists but could not be read.
    #[error("cannot read keypair file {path}: {source}")]
    ReadKeypair {
        /// The keypair file.
        path: PathBuf,
        /// Why reading failed.
        source: io::Error,
    },
    /// The file is not a Solana JSON byte-array keypair.
    #[error("not a keypair file: {path}: {reason}")]
    NotAKeypair {
        /// The file.
        path: PathBuf,
        /// What is wrong with its contents.
        reason: String,
    },
    /// A keypair file is already at the path; it is never overwritten, since that would
    /// lose the key it holds.
    #[error("keypair file {path} already exists: refusing to overwrite it")]
    KeypairExists {
        /// The existing file.
        path: PathBuf,
    },
    /// Writing a keypair file failed.
    #[error("cannot write keypair file {path}: {source}")]
    WriteKeypair {
        /// The keypair file.
        path: PathBuf,
        /// Why writing failed.
        source: io::Error,
    },
}

/// The cluster URL for `-u`: a Solana CLI shortcut (`l`/`localhost`, `d`/`devnet`,
/// `t`/`testnet`, `m`/`mainnet-beta`) or an http(s) URL as given; without `-u`, the
/// `json_rpc_url` of the Solana CLI config, else [`DEFAULT_URL`].
pub fn resolve_url(arg: Option<&str>) -> Result<String, ConfigError> {
    resolve_url_with(arg, cli_config_path().as_deref())
}

/// The keypair path for `-k`: the argument, else the `keypair_path` of the Solana CLI
/// config, else `~/.config/solana/id.json`. A config file that cannot be read counts as
/// absent here; reading the default keypair then says what is missing.
pub fn resolve_keypair_path(arg: Option<&Path>) -> PathBuf {
    resolve_keypair_path_with(arg, cli_config_path().as_deref(), home_dir().as_deref())
}

/// Reads a keypair file in the Solana CLI's format (a JSON array of 64 bytes).
pub fn read_keypair(path: &Path) -> Result<Keypair, ConfigError> {
    let text = fs::read_to_string(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => ConfigError::KeypairNotFound {
            path: path.to_path_buf(),
        },
        _ => ConfigError::ReadKeypair {
            path: path.to_path_buf(),
            source,
        },
    })?;
    solana_keypair::read_keypair(&mut text.as_bytes()).map_err(|err| ConfigError::NotAKeypair {
        path: path.to_path_buf(),
        reason: err.to_string(),
    })
}

/// Writes `keypair` to a new file at `path` in the Solana CLI's format, creating missing
/// parent directories; on Unix only the owner may read it, as with `solana-keygen`.
pub fn write_keypair(path: &Path, keypair: &Keypair) -> Result<(), ConfigError> {
    let write_error = |source: io::Error| match source.kind() {
        io::ErrorKind::AlreadyExists => ConfigError::KeypairExists {
            path: path.to_path_buf(),
        },
        _ => ConfigError::WriteKeypair {
            path: path.to_path_buf(),
            source,
        },
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(write_error)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(write_error)?;
    solana_keypair::write_keypair(keypair, &mut file)
        .map(drop)
        .map_err(|err| write_error(io::Error::other(err.to_string())))
}

/// The two settings gpu-market takes from the Solana CLI config.
#[derive(Debug, Default, PartialEq, Eq)]
struct CliConfig {
    json_rpc_url: Option<String>,
    keypair_path: Option<PathBuf>,
}

impl CliConfig {
    /// The config at `path`; empty when there is no path or no file there.
    fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        match fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::ReadConfig {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Reads the two top-level keys from the YAML the Solana CLI writes (`key: value`
    /// lines, values optionally quoted); everything else in the file is ignored, which
    /// spares a YAML parser.
    fn parse(text: &str) -> Self {
        let mut config = Self::default();
        for line in text.lines() {
            // Nested keys (address labels) are indented; only top-level ones count.
            if line.starts_with(char::is_whitespace) {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = unquote(value.trim());
            if value.is_empty() {
                continue;
            }
            match key.trim() {
                "json_rpc_url" => config.json_rpc_url = Some(value.to_owned()),
                "keypair_path" => config.keypair_path = Some(PathBuf::from(value)),
                _ => {}
            }
        }
        config
    }
}

fn unquote(value: &str) -> &str {
    ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value)
}

/// The URL a `-u` value stands for.
fn cluster_url(arg: &str) -> Result<String, ConfigError> {
    let url = match arg {
        "l" | "localhost" => DEFAULT_URL,
        "d" | "devnet" => "https://api.devnet.solana.com",
        "t" | "testnet" => "https://api.testnet.solana.com",
        "m" | "mainnet-beta" => "https://api.mainnet-beta.solana.com",
        url if url.starts_with("http://") || url.starts_with("https://") => url,
        other => return Err(ConfigError::UnknownCluster(other.to_owned())),
    };
    Ok(url.to_owned())
}

fn resolve_url_with(arg: Option<&str>, config_path: Option<&Path>) -> Result<String, ConfigError> {
    match arg {
        Some(arg) => cluster_url(arg),
        None => Ok(CliConfig::load(config_path)?
            .json_rpc_url
            .unwrap_or_else(|| DEFAULT_URL.to_owned())),
    }
}

fn resolve_keypair_path_with(
    arg: Option<&Path>,
    config_path: Option<&Path>,
    home: Option<&Path>,
) -> PathBuf {
    if let Some(path) = arg {
        return path.to_path_buf();
    }
    let configured = CliConfig::load(config_path)
        .ok()
        .and_then(|config| config.keypair_path);
    match (configured, home) {
        (Some(path), Some(home)) => match path.strip_prefix("~") {
            Ok(rest) => home.join(rest),
            Err(_) => path,
        },
        (Some(path), None) => path,
        (None, Some(home)) => home.join(".config/solana/id.json"),
        // Without a home directory, look in the working directory rather than give up:
        // reading it reports the path and how to create the file.
        (None, None) => PathBuf::from("id.json"),
    }
}

/// A setting `-u` or `-k` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The cluster URL (`json_rpc_url`).
    Url,
    /// The keypair file (`keypair_path`).
    Keypair,
}

/// Where `setting` comes from when neither its flag nor its environment variable gives it:
/// the Solana CLI config's key, or the built-in default without one.
pub fn default_origin(setting: Setting) -> String {
    default_origin_with(setting, cli_config_path().as_deref())
}

fn default_origin_with(setting: Setting, config_path: Option<&Path>) -> String {
    let config = CliConfig::load(config_path).unwrap_or_default();
    let (key, configured) = match setting {
        Setting::Url => ("json_rpc_url", config.json_rpc_url.is_some()),
        Setting::Keypair => ("keypair_path", config.keypair_path.is_some()),
    };
    match config_path {
        Some(path) if configured => {
            format!("the {key} of the Solana CLI config {}", path.display())
        }
        _ => format!("the default: no {key} in a Solana CLI config"),
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::home_dir().filter(|home| !home.as_os_str().is_empty())
}

/// Where the Solana CLI keeps its config.
fn cli_config_path() -> Option<PathBuf> {
    home_dir().map(|home| home.join(".config/solana/cli/config.yml"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_signer::Signer;

    const SOLANA_CLI_CONFIG: &str = "---\n\
        json_rpc_url: \"https://api.devnet.solana.com\"\n\
        websocket_url: \"\"\n\
        keypair_path: /home/alice/.config/solana/devnet.json\n\
        address_labels:\n  \
          \"11111111111111111111111111111111\": System Program\n\
        commitment: confirmed\n";

    fn config_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("config.yml");
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn cluster_shortcuts_and_urls() {
        for (arg, url) in [
            ("l", "http://localhost:8899"),
            ("localhost", "http://localhost:8899"),
            ("d", "https://api.devnet.solana.com"),
            ("devnet", "https://api.devnet.solana.com"),
            ("t", "https://api.testnet.solana.com"),
            ("testnet", "https://api.testnet.solana.com"),
            ("m", "https://api.mainnet-beta.solana.com"),
            ("mainnet-beta", "https://api.mainnet-beta.solana.com"),
            ("http://10.0.0.5:8899", "http://10.0.0.5:8899"),
            ("https://rpc.example.com/key", "https://rpc.example.com/key"),
        ] {
            assert_eq!(resolve_url_with(Some(arg), None).unwrap(), url, "{arg}");
        }
    }

    #[test]
    fn an_unknown_cluster_is_an_error() {
        let err = resolve_url_with(Some("mainnet"), None).unwrap_err();
        assert!(matches!(&err, ConfigError::UnknownCluster(name) if name == "mainnet"));
        assert!(err.to_string().contains("m/mainnet-beta"), "{err}");
    }

    #[test]
    fn the_argument_wins_over_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_file(&dir, SOLANA_CLI_CONFIG);
        assert_eq!(
            resolve_url_with(Some("l"), Some(&config)).unwrap(),
            DEFAULT_URL
        );
        let explicit = Path::new("/keys/admin.json");
        assert_eq!(
            resolve_keypair_path_with(Some(explicit), Some(&config), Some(dir.path())),
            explicit
        );
    }

    #[test]
    fn the_config_is_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_file(&dir, SOLANA_CLI_CONFIG);
        assert_eq!(
            resolve_url_with(None, Some(&config)).unwrap(),
            "https://api.devnet.solana.com"
        );
        assert_eq!(
            resolve_keypair_path_with(None, Some(&config), Some(dir.path())),
            Path::new("/home/alice/.config/solana/devnet.json")
        );
    }

    #[test]
    fn without_a_config_the_defaults_apply() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-config.yml");
        assert_eq!(resolve_url_with(None, Some(&missing)).unwrap(), DEFAULT_URL);
        assert_eq!(resolve_url_with(None, None).unwrap(), DEFAULT_URL);
        assert_eq!(
            resolve_keypair_path_with(None, Some(&missing), Some(Path::new("/home/bob"))),
            Path::new("/home/bob/.config/solana/id.json")
        );
    }

    #[test]
    fn the_origin_of_a_default_names_the_config_or_says_there_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_file(&dir, SOLANA_CLI_CONFIG);
        assert_eq!(
            default_origin_with(Setting::Url, Some(&config)),
            format!(
                "the json_rpc_url of the Solana CLI config {}",
                config.display()
            )
        );
        assert_eq!(
            default_origin_with(Setting::Keypair, Some(&config)),
            format!(
                "the keypair_path of the Solana CLI config {}",
                config.display()
            )
        );
        let only_url = config_file(&dir, "json_rpc_url: http://localhost:8899\n");
        assert_eq!(
            default_origin_with(Setting::Keypair, Some(&only_url)),
            "the default: no keypair_path in a Solana CLI config"
        );
        assert_eq!(
            default_origin_with(Setting::Url, None),
            "the default: no json_rpc_url in a Solana CLI config"
        );
    }

    #[test]
    fn an_unreadable_config_is_an_error_for_the_url() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be cannot be read as one.
        let err = resolve_url_with(None, Some(dir.path())).unwrap_err();
        assert!(matches!(err, ConfigError::ReadConfig { .. }), "{err}");
    }

    #[test]
    fn config_parsing_ignores_nested_and_empty_keys() {
        let parsed = CliConfig::parse(
            "address_labels:\n  json_rpc_url: http://nested\n\
             json_rpc_url: ''\nkeypair_path: '~/wallet.json'\n",
        );
        assert_eq!(
            parsed,
            CliConfig {
                json_rpc_url: None,
                keypair_path: Some(PathBuf::from("~/wallet.json")),
            }
        );
        let dir = tempfile::tempdir().unwrap();
        let config = config_file(&dir, "keypair_path: ~/wallet.json\n");
        assert_eq!(
            resolve_keypair_path_with(None, Some(&config), Some(Path::new("/home/carol"))),
            Path::new("/home/carol/wallet.json")
        );
    }

    #[test]
    fn keypairs_round_trip_in_the_solana_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/admin.json");
        let keypair = Keypair::new();
        write_keypair(&path, &keypair).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with('[') && text.ends_with(']'), "{text}");
        assert_eq!(text.split(',').count(), 64);
        assert_eq!(read_keypair(&path).unwrap().pubkey(), keypair.pubkey());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_existing_keypair_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.json");
        let first = Keypair::new();
        write_keypair(&path, &first).unwrap();
        let err = write_keypair(&path, &Keypair::new()).unwrap_err();
        assert!(matches!(err, ConfigError::KeypairExists { .. }), "{err}");
        assert_eq!(read_keypair(&path).unwrap().pubkey(), first.pubkey());
    }

    #[test]
    fn a_missing_keypair_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id.json");
        let err = read_keypair(&path).unwrap_err();
        assert!(matches!(err, ConfigError::KeypairNotFound { .. }));
        let shown = path.display();
        assert_eq!(
            err.to_string(),
            format!(
                "keypair file {shown} not found: create one with \
                 `gpu-market keygen -o {shown}` (no Solana CLI needed) or pass -k"
            )
        );
    }

    #[test]
    fn a_file_that_is_not_a_keypair_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = config_file(&dir, SOLANA_CLI_CONFIG);
        let err = read_keypair(&path).unwrap_err();
        assert!(matches!(err, ConfigError::NotAKeypair { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("not a keypair file: {}", path.display())),
            "{err}"
        );
        let short = config_file(&dir, "[1, 2, 3]");
        assert!(matches!(
            read_keypair(&short),
            Err(ConfigError::NotAKeypair { .. })
        ));
    }
}
