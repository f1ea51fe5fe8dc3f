//! Where OAuth tokens live between requests and between runs: the [`TokenStore`] trait, a
//! file-backed store and an in-memory store.
//!
//! FreshBooks refresh tokens are single-use: every refresh returns a new one and burns the
//! old. The OAuth code in [`crate::auth`] therefore saves a refreshed [`TokenSet`] before it
//! uses the new access token, and a store's `save` must be durable when it returns:
//! [`FileTokenStore`] writes a temporary file in the same directory, fsyncs it, renames it
//! over the old file (atomic on POSIX) and fsyncs the directory; the file is created 0600.

use crate::secret::Secret;
use async_trait::async_trait;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::OffsetDateTime;

/// The tokens of one OAuth grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    /// When the access token expires, if the server said.
    pub expires_at: Option<OffsetDateTime>,
}

/// Why a token store could not load or save.
#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("I/O error on token file {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("token file {path} is not valid token JSON")]
    Format {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// Failure of another store implementation.
    #[error("{what}")]
    Other {
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// Durable storage of OAuth tokens, one [`TokenSet`] per key (e.g. `freshbooks:<account>`).
#[async_trait]
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// The tokens saved under `key`, if any.
    async fn load(&self, key: &str) -> Result<Option<TokenSet>, TokenStoreError>;
    /// Saves `tokens` under `key`; durable when it returns `Ok`.
    async fn save(&self, key: &str, tokens: &TokenSet) -> Result<(), TokenStoreError>;
}

/// Tokens in memory (tests, and runs that must not persist anything).
#[derive(Debug, Default, Clone)]
pub struct MemoryTokenStore {
    map: Arc<Mutex<HashMap<String, TokenSet>>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `tokens` under `key`.
    pub fn with(key: &str, tokens: TokenSet) -> Self {
        let s = Self::new();
        s.map.lock().insert(key.to_string(), tokens);
        s
    }

    /// What is stored under `key` now.
    pub fn get(&self, key: &str) -> Option<TokenSet> {
        self.map.lock().get(key).cloned()
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self, key: &str) -> Result<Option<TokenSet>, TokenStoreError> {
        Ok(self.get(key))
    }

    async fn save(&self, key: &str, tokens: &TokenSet) -> Result<(), TokenStoreError> {
        self.map.lock().insert(key.to_string(), tokens.clone());
        Ok(())
    }
}

/// On-disk shape. Deliberately without `Debug`: it holds plain secrets.
#[derive(Serialize, Deserialize, Default)]
struct FileContents {
    version: u32,
    tokens: BTreeMap<String, FileToken>,
}

#[derive(Serialize, Deserialize)]
struct FileToken {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

/// Tokens in one JSON file (mode 0600), rewritten atomically on every save.
///
/// Saves from one process are serialized; two processes sharing one file are not supported
/// (give each its own file).
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl FileTokenStore {
    /// A store in `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(path: &Path) -> Result<FileContents, TokenStoreError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| TokenStoreError::Format {
                path: path.to_path_buf(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileContents {
                version: 1,
                tokens: BTreeMap::new(),
            }),
            Err(source) => Err(TokenStoreError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    fn write_atomic(path: &Path, contents: &FileContents) -> Result<(), TokenStoreError> {
        use std::io::Write;
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| TokenStoreError::Io { path: p, source }
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens".to_string());
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        // The first save creates the directory, private to its owner: tokens are secrets.
        if !dir.exists() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            b.create(&dir).map_err(io(&dir))?;
        }
        let bytes =
            serde_json::to_vec_pretty(contents).map_err(|source| TokenStoreError::Format {
                path: path.to_path_buf(),
                source,
            })?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let result = (|| {
            let mut f = opts.open(&tmp).map_err(io(&tmp))?;
            #[cfg(unix)]
            {
                // `mode` only applies to new files; a stale temp file keeps its mode.
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(io(&tmp))?;
            }
            f.write_all(&bytes).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
            drop(f);
            std::fs::rename(&tmp, path).map_err(io(path))?;
            // Make the rename itself durable.
            #[cfg(unix)]
            if let Ok(d) = std::fs::File::open(&dir) {
                d.sync_all().map_err(io(&dir))?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

fn join_error(e: tokio::task::JoinError) -> TokenStoreError {
    TokenStoreError::Other {
        what: "token store task failed".to_string(),
        source: Some(Box::new(e)),
    }
}

#[async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self, key: &str) -> Result<Option<TokenSet>, TokenStoreError> {
        let _g = self.lock.lock().await;
        let path = self.path.clone();
        let key = key.to_string();
        tokio::task::spawn_blocking(move || {
            let mut c = Self::read(&path)?;
            Ok(c.tokens.remove(&key).map(|t| TokenSet {
                access_token: Secret::new(t.access_token),
                refresh_token: t.refresh_token.map(Secret::new),
                expires_at: t
                    .expires_at
                    .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()),
            }))
        })
        .await
        .map_err(join_error)?
    }

    async fn save(&self, key: &str, tokens: &TokenSet) -> Result<(), TokenStoreError> {
        let _g = self.lock.lock().await;
        let path = self.path.clone();
        let key = key.to_string();
        let entry = FileToken {
            access_token: tokens.access_token.expose().to_string(),
            refresh_token: tokens
                .refresh_token
                .as_ref()
                .map(|s| s.expose().to_string()),
            expires_at: tokens.expires_at.map(|t| t.unix_timestamp()),
        };
        tokio::task::spawn_blocking(move || {
            let mut c = Self::read(&path)?;
            c.version = 1;
            c.tokens.insert(key, entry);
            Self::write_atomic(&path, &c)
        })
        .await
        .map_err(join_error)?
    }
}
