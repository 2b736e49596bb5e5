//! A bounded cache keyed by code-object id, for per-code-object decisions.
//!
//! Programs that `exec`/`eval` generated code create code objects without end,
//! so the cache forgets the least recently used ones: entries live in two
//! generations; a hit in the older one moves the entry to the newer one, and
//! when the newer one is full the older one is dropped whole. An entry used
//! within the last `capacity / 2` insertions is never evicted, and the cache
//! never holds more than `capacity` entries. Values that keep their code
//! object alive (so its address is not reused while cached) are released on
//! eviction.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// A bounded map from code-object ids to `V`.
#[derive(Debug)]
pub struct ScopeCache<V, S = RandomState> {
    generation: usize,
    recent: HashMap<usize, V, S>,
    older: HashMap<usize, V, S>,
}

impl<V, S: BuildHasher + Default> ScopeCache<V, S> {
    /// A cache holding at most `capacity` entries (at least 2).
    pub fn new(capacity: usize) -> Self {
        ScopeCache {
            generation: (capacity / 2).max(1),
            recent: HashMap::default(),
            older: HashMap::default(),
        }
    }

    /// The entry of `key`, marking it used; without one, the value `make`
    /// returns is stored first (an error from `make` stores nothing).
    pub fn get_or_try_insert_with<E>(
        &mut self,
        key: usize,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<&mut V, E> {
        if !self.recent.contains_key(&key) {
            let value = match self.older.remove(&key) {
                Some(value) => value,
                None => make()?,
            };
            return Ok(self.insert(key, value));
        }
        match self.recent.entry(key) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => make().map(|value| entry.insert(value)),
        }
    }

    /// Stores `value` under `key` (replacing any entry), evicting the older
    /// generation when the newer one is full.
    pub fn insert(&mut self, key: usize, value: V) -> &mut V {
        self.older.remove(&key);
        if !self.recent.contains_key(&key) && self.recent.len() >= self.generation {
            self.older = std::mem::take(&mut self.recent);
        }
        self.recent.entry(key).insert_entry(value).into_mut()
    }

    /// The number of entries.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.recent.len() + self.older.len()
    }

    /// Whether the cache is empty.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl<V, S: BuildHasher + Default> ScopeCache<V, S> {
        /// The entry of `key` without inserting one.
        fn get_mut(&mut self, key: usize) -> Option<&mut V> {
            self.get_or_try_insert_with(key, || Err(())).ok()
        }
    }

    #[test]
    fn a_missing_entry_is_made_once_and_a_failure_stores_nothing() {
        let mut cache: ScopeCache<String> = ScopeCache::new(4);
        let made = cache.get_or_try_insert_with(7, || Err::<String, &str>("unreadable"));
        assert_eq!(made, Err("unreadable"));
        assert!(cache.is_empty());
        let mut calls = 0;
        for _ in 0..3 {
            let value = cache.get_or_try_insert_with(7, || {
                calls += 1;
                Ok::<_, ()>("code".to_string())
            });
            assert_eq!(value.map(|v| v.clone()), Ok("code".to_string()));
        }
        assert_eq!(calls, 1);
    }

    #[test]
    fn the_cache_never_exceeds_its_capacity() {
        let mut cache: ScopeCache<usize> = ScopeCache::new(100);
        for key in 0..10_000 {
            cache.insert(key, key);
            assert!(cache.len() <= 100, "{} entries after {key}", cache.len());
        }
        assert!(cache.len() >= 50);
        assert_eq!(cache.get_mut(9_999).copied(), Some(9_999));
        assert_eq!(cache.get_mut(0), None, "the first entries were evicted");
    }

    #[test]
    fn entries_in_use_survive_a_stream_of_new_ones() {
        let mut cache: ScopeCache<&str> = ScopeCache::new(8);
        cache.insert(1, "hot loop");
        for key in 100..1_000 {
            cache.insert(key, "exec-generated");
            assert_eq!(cache.get_mut(1).copied(), Some("hot loop"), "after {key}");
        }
        assert!(cache.len() <= 8);
    }

    #[test]
    fn an_unused_entry_is_evicted_after_two_generations() {
        let mut cache: ScopeCache<u32> = ScopeCache::new(4);
        cache.insert(1, 10);
        cache.insert(2, 20);
        cache.insert(3, 30); // {1, 2} become the older generation
        assert_eq!(cache.get_mut(1).copied(), Some(10)); // moved back: {3, 1}
        cache.insert(4, 40); // {3, 1} older, 2 dropped
        assert_eq!(cache.get_mut(2), None);
        assert_eq!(cache.get_mut(3).copied(), Some(30));
        *cache.insert(3, 31) += 1;
        assert_eq!(cache.get_mut(3).copied(), Some(32));
        assert!(!cache.is_empty());
    }

    #[test]
    fn evicted_values_are_dropped() {
        use std::rc::Rc;
        let code_object = Rc::new(());
        let mut cache: ScopeCache<Rc<()>> = ScopeCache::new(2);
        cache.insert(1, Rc::clone(&code_object));
        assert_eq!(Rc::strong_count(&code_object), 2);
        for key in 2..5 {
            cache.insert(key, Rc::new(()));
        }
        assert_eq!(Rc::strong_count(&code_object), 1);
    }
}
