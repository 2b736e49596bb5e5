//! A fixed pool of worker threads taking items in order from a shared list.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;

/// Runs `work` on every item with at most `jobs` threads at a time (at least
/// one); workers take the next unstarted item as they become free. Results
/// come back in input order, whatever order the items finish in.
pub fn map_ordered<T, R, F>(items: &[T], jobs: usize, work: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(index) else {
                    break;
                };
                let result = work(item);
                results.lock().unwrap_or_else(PoisonError::into_inner)[index] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::thread::ThreadId;
    use std::time::Duration;

    use super::map_ordered;

    #[test]
    fn results_keep_input_order_when_items_finish_out_of_order() {
        let items: Vec<u64> = (0..12).collect();
        // Early items sleep longest, so they finish last.
        let squares = map_ordered(&items, 4, |n| {
            std::thread::sleep(Duration::from_millis(2 * (12 - n)));
            n * n
        });
        assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
    }

    #[test]
    fn no_more_than_jobs_threads_work_and_zero_jobs_still_runs() {
        let threads: Mutex<HashSet<ThreadId>> = Mutex::new(HashSet::new());
        let items: Vec<u32> = (0..20).collect();
        let out = map_ordered(&items, 3, |n| {
            threads
                .lock()
                .map(|mut seen| seen.insert(std::thread::current().id()))
                .ok();
            std::thread::sleep(Duration::from_millis(1));
            *n
        });
        assert_eq!(out, items);
        let used = threads.lock().map(|seen| seen.len()).unwrap_or(0);
        assert!((1..=3).contains(&used), "{used} threads");
        assert_eq!(map_ordered(&items[..2], 0, |n| n + 1), vec![1, 2]);
        assert_eq!(map_ordered(&[] as &[u32], 4, |n| *n), Vec::<u32>::new());
    }
}
