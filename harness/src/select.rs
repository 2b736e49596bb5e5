//! `--filter`: choosing cases by id.

use crate::scenario::{Case, ScenarioFile};

/// Whether `id` matches `pattern`: `*` matches any run of characters; a
/// pattern without `*` matches ids that contain it.
pub fn matches(id: &str, pattern: &str) -> bool {
    if !pattern.contains('*') {
        return id.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().map_or(("", &[][..]), |(f, r)| (*f, r));
    let Some(mut remaining) = id.strip_prefix(first) else {
        return false;
    };
    for (position, part) in rest.iter().enumerate() {
        let last = position + 1 == rest.len();
        if last {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.is_empty()
}

/// The cases of `files` selected by `filter`, in file order. A pattern equal
/// to some case's id selects exactly that case (so replay commands are exact).
pub fn select(files: &[ScenarioFile], filter: Option<&str>) -> Vec<Case> {
    let all = files.iter().flat_map(|file| file.cases.iter().cloned());
    match filter {
        None => all.collect(),
        Some(pattern) => {
            let all: Vec<Case> = all.collect();
            if all.iter().any(|case| case.id == pattern) {
                all.into_iter().filter(|case| case.id == pattern).collect()
            } else {
                all.into_iter()
                    .filter(|case| matches(&case.id, pattern))
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_and_glob_patterns() {
        assert!(matches("disk_full::quota_abort", "quota"));
        assert!(matches("disk_full::quota_abort", "disk_full::*abort"));
        assert!(matches("disk_full::quota_abort", "*"));
        assert!(!matches("disk_full::quota_abort", "panic::*"));
        assert!(!matches("disk_full::quota_abort", "*disable"));
    }
}
