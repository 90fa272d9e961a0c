//! The bounded cache of decrypted keys. Entries are evicted least-recently-used when the cache is full
//! and dropped once idle for longer than the configured time; a dropped entry zeroizes its key material
//! (the private key bytes live in `Zeroizing` buffers, and aws-lc cleanses its own key objects on free).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::keys::{Fingerprint, SigningKeyUsageSet};
use crate::primitives::{Decrypter, Signer};
use crate::scheme::{EncryptionKeySpec, SigningKeySpec};

/// Cache limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most decrypted keys held at once (0 disables the cache).
    pub max_entries: usize,
    /// A key unused for this long is dropped.
    pub idle_timeout: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_entries: 1024,
            idle_timeout: Duration::from_secs(600),
        }
    }
}

/// A decrypted key, prepared for use.
#[derive(Debug)]
pub(crate) enum CachedKey {
    Signer {
        signer: Signer,
        spec: SigningKeySpec,
        usage: SigningKeyUsageSet,
    },
    Decrypter {
        decrypter: Decrypter,
        spec: EncryptionKeySpec,
    },
}

struct Entry {
    key: Arc<CachedKey>,
    last_used: Instant,
}

pub(crate) struct KeyCache {
    config: CacheConfig,
    entries: Mutex<HashMap<Fingerprint, Entry>>,
}

impl core::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyCache")
            .field("config", &self.config)
            .field("len", &self.len())
            .finish()
    }
}

impl KeyCache {
    pub(crate) fn new(config: CacheConfig) -> Self {
        Self {
            config,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, fp: &Fingerprint) -> Option<Arc<CachedKey>> {
        let mut map = self.entries.lock().ok()?;
        let now = Instant::now();
        let entry = map.get_mut(fp)?;
        if now.duration_since(entry.last_used) > self.config.idle_timeout {
            map.remove(fp);
            return None;
        }
        entry.last_used = now;
        Some(entry.key.clone())
    }

    pub(crate) fn insert(&self, fp: Fingerprint, key: CachedKey) -> Arc<CachedKey> {
        let key = Arc::new(key);
        if self.config.max_entries == 0 {
            return key;
        }
        let Ok(mut map) = self.entries.lock() else {
            return key;
        };
        let now = Instant::now();
        let idle = self.config.idle_timeout;
        map.retain(|_, e| now.duration_since(e.last_used) <= idle);
        while map.len() >= self.config.max_entries {
            let oldest = map.iter().min_by_key(|(_, e)| e.last_used).map(|(k, _)| *k);
            match oldest {
                Some(k) => {
                    map.remove(&k);
                }
                None => break,
            }
        }
        map.insert(
            fp,
            Entry {
                key: key.clone(),
                last_used: now,
            },
        );
        key
    }

    pub(crate) fn remove(&self, fp: &Fingerprint) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(fp);
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut map) = self.entries.lock() {
            map.clear();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyType, PrivateKey};

    fn entry() -> (Fingerprint, CachedKey) {
        let key = PrivateKey::generate(KeyType::Ed25519).expect("generate");
        let fp = key.public_key().fingerprint();
        let signer = Signer::new(key).expect("signer");
        (
            fp,
            CachedKey::Signer {
                signer,
                spec: SigningKeySpec::EcCurve25519,
                usage: SigningKeyUsageSet::ALL,
            },
        )
    }

    #[test]
    fn bounded_lru_and_idle_expiry() {
        let cache = KeyCache::new(CacheConfig {
            max_entries: 3,
            idle_timeout: Duration::from_secs(60),
        });
        let entries: Vec<_> = (0..4).map(|_| entry()).collect();
        let fps: Vec<Fingerprint> = entries.iter().map(|(fp, _)| *fp).collect();
        let mut it = entries.into_iter();
        for _ in 0..3 {
            let (fp, k) = it.next().expect("entry");
            cache.insert(fp, k);
            std::thread::sleep(Duration::from_millis(2));
        }
        // Touch the oldest so the second becomes least recently used.
        assert!(cache.get(&fps[0]).is_some());
        let (fp, k) = it.next().expect("entry");
        cache.insert(fp, k);
        assert_eq!(cache.len(), 3);
        assert!(
            cache.get(&fps[1]).is_none(),
            "least recently used entry evicted"
        );
        assert!(cache.get(&fps[0]).is_some() && cache.get(&fps[3]).is_some());

        let idle = KeyCache::new(CacheConfig {
            max_entries: 3,
            idle_timeout: Duration::from_millis(20),
        });
        let (fp, k) = entry();
        idle.insert(fp, k);
        std::thread::sleep(Duration::from_millis(40));
        assert!(idle.get(&fp).is_none(), "idle entry dropped");
        assert_eq!(idle.len(), 0);

        let off = KeyCache::new(CacheConfig {
            max_entries: 0,
            idle_timeout: Duration::from_secs(1),
        });
        let (fp, k) = entry();
        off.insert(fp, k);
        assert_eq!(off.len(), 0, "max_entries = 0 disables the cache");
    }
}
