//! The `file` backend: one file per key under a root directory (`.artificer/` by default),
//! so the queue's files keep the artificer-conversations layout.
//!
//! Durability and concurrency:
//! - a write goes to a temp file in `<root>/.kiln/tmp/`, is fsynced, renamed over the
//!   target and the directory fsynced: after `kill -9` at any instant a key holds either
//!   its old or its new bytes, never a mix;
//! - writes and deletes take an exclusive `flock` on `<root>/.kiln/lock`, compare the
//!   current version, then write: compare-and-swap across threads and processes;
//! - reads take no lock (a rename is atomic, so they see whole files);
//! - a key's version is the xxh3 hash of its bytes, so a hand edit changes it too and
//!   concurrent writers notice. Temp files left by a killed writer are removed by the next
//!   writer (temp files only exist while their writer holds the lock).

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use kiln_wire::store::validate_key;
use kiln_wire::store::{Entry, Precondition, Store, StoreError, Version};
use xxhash_rust::xxh3::xxh3_64;

/// Kiln's own bookkeeping inside the root; keys cannot start with '.', so never a key.
const META_DIR: &str = ".kiln";

/// A directory of files, one per key.
#[derive(Debug)]
pub struct FileStore {
    root: PathBuf,
    lock_path: PathBuf,
    tmp_dir: PathBuf,
    tmp_counter: AtomicU64,
}

impl FileStore {
    /// Opens (creating if needed) the store rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        let meta = root.join(META_DIR);
        let tmp_dir = meta.join("tmp");
        fs::create_dir_all(&tmp_dir).map_err(|e| io_error("create the store directory", &tmp_dir, &e))?;
        Ok(Self { lock_path: meta.join("lock"), tmp_dir, root, tmp_counter: AtomicU64::new(0) })
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file that holds `key` (whether or not it exists).
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn checked_path(&self, key: &str) -> Result<PathBuf, StoreError> {
        validate_key(key)?;
        Ok(self.path_of(key))
    }

    fn read(path: &Path) -> Result<Option<Entry>, StoreError> {
        match fs::read(path) {
            Ok(value) => Ok(Some(Entry { version: version_of(&value), value })),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            // `a/b` asked while `a` is a file: the key cannot exist.
            Err(e) if e.kind() == ErrorKind::NotADirectory => Ok(None),
            Err(e) => Err(io_error("read", path, &e)),
        }
    }

    /// Runs `op` holding the store's exclusive lock. A fresh open file description per call
    /// makes `flock` exclude other threads of this process as well as other processes.
    fn locked<T>(&self, op: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(|e| io_error("open the lock file", &self.lock_path, &e))?;
        lock.lock().map_err(|e| io_error("lock", &self.lock_path, &e))?;
        self.remove_stale_temp_files();
        op()
        // Dropping `lock` closes the descriptor, which releases the lock.
    }

    /// Temp files only exist while their writer holds the lock; any found by a lock holder
    /// were left by a writer that died.
    fn remove_stale_temp_files(&self) {
        if let Ok(entries) = fs::read_dir(&self.tmp_dir) {
            for entry in entries.flatten() {
                // Best effort: a leftover temp file wastes space but is never read.
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    fn write_atomically(&self, path: &Path, value: &[u8]) -> Result<(), StoreError> {
        let parent = path.parent().unwrap_or(&self.root);
        self.create_dirs(parent)?;
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.tmp_dir.join(format!("{}-{n}", std::process::id()));
        let result = (|| {
            let mut file = File::create(&tmp).map_err(|e| io_error("create", &tmp, &e))?;
            file.write_all(value).map_err(|e| io_error("write", &tmp, &e))?;
            file.sync_all().map_err(|e| io_error("fsync", &tmp, &e))?;
            fs::rename(&tmp, path).map_err(|e| io_error("rename into place", path, &e))?;
            sync_dir(parent)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Creates missing directories down to `dir`, fsyncing each new one's parent so the
    /// directory entry itself survives a crash.
    fn create_dirs(&self, dir: &Path) -> Result<(), StoreError> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            self.create_dirs(parent)?;
        }
        match fs::create_dir(dir) {
            Ok(()) => sync_dir(dir.parent().unwrap_or(&self.root)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
            Err(e) => Err(io_error("create directory", dir, &e)),
        }
    }

    fn collect_keys(&self, dir: &Path, key_prefix: &str, out: &mut Vec<String>) -> Result<(), StoreError> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => return Ok(()),
            Err(e) => return Err(io_error("list", dir, &e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_error("list", dir, &e))?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            let key = format!("{key_prefix}{name}");
            // Only names that are valid keys are keys: this skips `.kiln`, editor backups
            // such as `.index.json.swp`, and anything else a person left in the directory.
            if validate_key(&key).is_err() {
                continue;
            }
            let file_type = entry.file_type().map_err(|e| io_error("list", &entry.path(), &e))?;
            if file_type.is_dir() {
                self.collect_keys(&entry.path(), &format!("{key}/"), out)?;
            } else if file_type.is_file() {
                out.push(key);
            }
        }
        Ok(())
    }
}

impl Store for FileStore {
    fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        Self::read(&self.checked_path(key)?)
    }

    fn put(&self, key: &str, value: &[u8], expected: Precondition) -> Result<Version, StoreError> {
        let path = self.checked_path(key)?;
        self.locked(|| {
            let current = Self::read(&path)?.map(|e| e.version);
            if !expected.holds(current) {
                return Err(StoreError::Conflict);
            }
            self.write_atomically(&path, value)?;
            Ok(version_of(value))
        })
    }

    fn delete(&self, key: &str, expected: Precondition) -> Result<bool, StoreError> {
        let path = self.checked_path(key)?;
        self.locked(|| {
            let current = Self::read(&path)?.map(|e| e.version);
            if !expected.holds(current) {
                return Err(StoreError::Conflict);
            }
            if current.is_none() {
                return Ok(false);
            }
            fs::remove_file(&path).map_err(|e| io_error("delete", &path, &e))?;
            sync_dir(path.parent().unwrap_or(&self.root))?;
            Ok(true)
        })
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        // Walk only the deepest directory the prefix names; it must be a valid key path.
        let (dir, key_prefix) = match prefix.rsplit_once('/') {
            Some((dir, _)) => {
                validate_key(dir)?;
                (self.root.join(dir), format!("{dir}/"))
            }
            None => (self.root.clone(), String::new()),
        };
        let mut keys = Vec::new();
        self.collect_keys(&dir, &key_prefix, &mut keys)?;
        keys.retain(|k| k.starts_with(prefix));
        keys.sort();
        Ok(keys)
    }
}

/// A key's version: the hash of its bytes.
fn version_of(value: &[u8]) -> Version {
    xxh3_64(value)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error("fsync directory", dir, &e))
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::Backend(format!("could not {what} {}: {e}", path.display()))
}
