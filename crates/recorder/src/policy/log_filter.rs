//! Log filters: a default level plus `module=level` directives.

use log::LevelFilter;

/// The crate's own target prefix; directives may leave it out (`tracer=debug`).
const CRATE_PREFIX: &str = "codetracer_python_recorder::";

/// A parsed `log_level` value such as `warn` or `info,tracer=trace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    default: LevelFilter,
    directives: Vec<(String, LevelFilter)>,
}

/// A `log_level` value that could not be parsed; holds the offending part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLogFilter(pub String);

fn parse_level(text: &str) -> Option<LevelFilter> {
    match text.trim().to_ascii_lowercase().as_str() {
        "off" | "none" => Some(LevelFilter::Off),
        "error" => Some(LevelFilter::Error),
        "warn" | "warning" => Some(LevelFilter::Warn),
        "info" => Some(LevelFilter::Info),
        "debug" => Some(LevelFilter::Debug),
        "trace" => Some(LevelFilter::Trace),
        _ => None,
    }
}

impl LogFilter {
    /// A filter letting `default` and more severe levels through for every target.
    pub fn new(default: LevelFilter) -> LogFilter {
        LogFilter {
            default,
            directives: Vec::new(),
        }
    }

    /// Parses a comma-separated list of `level` and `module=level` entries.
    /// A lone level sets the default (`warn` when absent).
    pub fn parse(spec: &str) -> Result<LogFilter, BadLogFilter> {
        let mut filter = LogFilter::new(LevelFilter::Warn);
        let mut any = false;
        for part in spec
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            any = true;
            let bad = || BadLogFilter(part.to_owned());
            match part.split_once('=') {
                None => filter.default = parse_level(part).ok_or_else(bad)?,
                Some((module, level)) => {
                    let module = module.trim();
                    if module.is_empty() || module.contains(char::is_whitespace) {
                        return Err(bad());
                    }
                    let level = parse_level(level).ok_or_else(bad)?;
                    filter.directives.push((module.to_owned(), level));
                }
            }
        }
        if !any {
            return Err(BadLogFilter(spec.to_owned()));
        }
        // Longest module first, so the most specific directive decides.
        filter
            .directives
            .sort_by_key(|(module, _)| std::cmp::Reverse(module.len()));
        Ok(filter)
    }

    /// The level that applies to `target` (a module path).
    pub fn level_for(&self, target: &str) -> LevelFilter {
        let short = target.strip_prefix(CRATE_PREFIX);
        self.directives
            .iter()
            .find(|(module, _)| {
                covers(module, target) || short.is_some_and(|short| covers(module, short))
            })
            .map_or(self.default, |(_, level)| *level)
    }

    /// The most verbose level any target can reach (for `log::set_max_level`).
    pub fn max_level(&self) -> LevelFilter {
        self.directives
            .iter()
            .map(|(_, level)| *level)
            .fold(self.default, std::cmp::Ord::max)
    }
}

/// Whether directive `module` covers `target`: equal, or a parent module path.
fn covers(module: &str, target: &str) -> bool {
    target
        .strip_prefix(module)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_level_is_the_default() {
        let filter = LogFilter::parse("DEBUG").map_err(|e| e.0);
        assert_eq!(
            filter.map(|f| f.level_for("anything")),
            Ok(LevelFilter::Debug)
        );
    }

    #[test]
    fn module_directives_match_full_and_crate_relative_paths() {
        let Ok(filter) =
            LogFilter::parse("error, tracer=trace, codetracer_python_recorder::policy=info")
        else {
            panic!("valid filter rejected");
        };
        assert_eq!(
            filter.level_for("codetracer_python_recorder::tracer::events"),
            LevelFilter::Trace
        );
        assert_eq!(
            filter.level_for("codetracer_python_recorder::policy"),
            LevelFilter::Info
        );
        assert_eq!(
            filter.level_for("codetracer_python_recorder::tracerx"),
            LevelFilter::Error
        );
        assert_eq!(filter.level_for("other"), LevelFilter::Error);
        assert_eq!(filter.max_level(), LevelFilter::Trace);
    }

    #[test]
    fn bad_levels_and_empty_specs_are_rejected() {
        assert_eq!(LogFilter::parse("loud"), Err(BadLogFilter("loud".into())));
        assert!(LogFilter::parse("tracer=").is_err());
        assert!(LogFilter::parse("=info").is_err());
        assert!(LogFilter::parse(" , ").is_err());
    }
}
