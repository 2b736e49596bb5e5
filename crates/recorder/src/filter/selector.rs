//! Selectors: `KIND:[MATCH:]PATTERN` strings, parsed and compiled once.
//!
//! As in 0.3, the string is cut at its first two colons: with three parts the
//! middle one must be a match type, so colons later in the pattern need no
//! escaping (`obj:regex:^a::b$`). Matching: `glob` (the default; `*` and `?`
//! never match `/`, `**` spans directories), `regex` (a search anywhere in the
//! candidate: anchor it with `^...$`), `literal` (exact, case-sensitive), and,
//! for value selectors, `tokens` (see [`super::tokens`]).

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;

use super::location::Library;
use super::model::ValueKind;
use super::tokens::TokenSet;

/// How a pattern is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    /// Shell-style wildcards with `/` as separator.
    Glob,
    /// A regular expression searched anywhere in the candidate.
    Regex,
    /// Exact comparison.
    Literal,
    /// Word tokens of a name (value selectors only).
    Tokens,
}

impl MatchType {
    fn parse(text: &str) -> Option<MatchType> {
        match text {
            "glob" => Some(MatchType::Glob),
            "regex" => Some(MatchType::Regex),
            "literal" => Some(MatchType::Literal),
            "tokens" => Some(MatchType::Tokens),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
enum Matcher {
    Glob(GlobMatcher),
    Regex(Regex),
    Literal(String),
    Tokens(Box<TokenSet>),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    matcher: Matcher,
}

impl Pattern {
    fn compile(match_type: MatchType, text: &str) -> Result<Pattern, String> {
        let matcher = match match_type {
            MatchType::Glob => GlobBuilder::new(text)
                .literal_separator(true)
                .build()
                .map(|glob| Matcher::Glob(glob.compile_matcher()))
                .map_err(|err| format!("bad glob {text:?}: {}", err.kind()))?,
            MatchType::Regex => Regex::new(text)
                .map(Matcher::Regex)
                .map_err(|err| format!("bad regex {text:?}: {}", last_line(&err.to_string())))?,
            MatchType::Literal => Matcher::Literal(text.to_owned()),
            MatchType::Tokens => Matcher::Tokens(Box::new(TokenSet::parse(text)?)),
        };
        Ok(Pattern {
            text: text.to_owned(),
            matcher,
        })
    }

    /// Whether `candidate` matches.
    pub fn matches(&self, candidate: &str) -> bool {
        match &self.matcher {
            Matcher::Glob(glob) => glob.is_match(candidate),
            Matcher::Regex(regex) => regex.is_match(candidate),
            Matcher::Literal(text) => text == candidate,
            Matcher::Tokens(tokens) => tokens.matches(candidate),
        }
    }

    /// Whether the pattern is written to match everything: a glob made only
    /// of `*` and `/`, or the regex `.*` / `.+` (optionally `^`/`$`-anchored,
    /// optionally with the `(?s)` flag).
    pub fn is_catch_all(&self) -> bool {
        match &self.matcher {
            Matcher::Glob(_) => self.text.chars().all(|c| c == '*' || c == '/'),
            Matcher::Regex(_) => {
                let text = self.text.strip_prefix("(?s)").unwrap_or(&self.text);
                let text = text.strip_prefix('^').unwrap_or(text);
                let text = text.strip_suffix('$').unwrap_or(text);
                text == ".*" || text == ".+"
            }
            Matcher::Literal(_) | Matcher::Tokens(_) => false,
        }
    }
}

/// What a scope selector looks at.
#[derive(Debug, Clone)]
pub enum ScopeTarget {
    /// `pkg:`: the module name.
    Package(Pattern),
    /// `file:`: the code's file path, project-relative or as given.
    File(Pattern),
    /// `obj:`: `module.qualname`.
    Object(Pattern),
    /// `lib:NAME`: a place of the running interpreter.
    Library(Library),
}

/// A selector of a `[[scope.rules]]` entry.
#[derive(Debug, Clone)]
pub struct ScopeSelector {
    /// What it matches.
    pub target: ScopeTarget,
}

impl ScopeSelector {
    /// The accepted kinds, for messages.
    pub const EXPECTED_KINDS: &'static str = "pkg, file, obj or lib";

    /// Parses a scope selector; the error says what was expected.
    pub fn parse(raw: &str) -> Result<ScopeSelector, String> {
        let parts = split(raw)?;
        let target = match parts.kind {
            "pkg" | "file" | "obj" => {
                let match_type = parts.match_type(false)?;
                let mut text = parts.pattern;
                if parts.kind == "file" && match_type != MatchType::Regex {
                    while let Some(rest) = text.strip_prefix("./") {
                        text = rest;
                    }
                }
                let pattern = Pattern::compile(match_type, non_empty(text)?)?;
                match parts.kind {
                    "pkg" => ScopeTarget::Package(pattern),
                    "file" => ScopeTarget::File(pattern),
                    _ => ScopeTarget::Object(pattern),
                }
            }
            "lib" => {
                if parts.match_token.is_some() {
                    return Err(format!(
                        "`lib:` takes a library name without a match type; expected {}",
                        library_names()
                    ));
                }
                let library = Library::parse(parts.pattern).ok_or_else(|| {
                    format!(
                        "unknown library {:?}; expected {}",
                        parts.pattern,
                        library_names()
                    )
                })?;
                ScopeTarget::Library(library)
            }
            kind if ValueKind::parse(kind).is_some() => {
                return Err(format!(
                    "`{kind}:` selects values, not scopes; a scope rule's selector kind is {}",
                    Self::EXPECTED_KINDS
                ))
            }
            kind => {
                return Err(format!(
                    "unknown selector kind {kind:?}; expected {}",
                    Self::EXPECTED_KINDS
                ))
            }
        };
        Ok(ScopeSelector { target })
    }

    /// Whether the selector matches every scope of its kind (see [`Pattern::is_catch_all`]).
    pub fn is_catch_all(&self) -> bool {
        match &self.target {
            ScopeTarget::Package(p) | ScopeTarget::File(p) | ScopeTarget::Object(p) => {
                p.is_catch_all()
            }
            ScopeTarget::Library(_) => false,
        }
    }
}

/// A selector of a `[[scope.rules.value_patterns]]` entry.
#[derive(Debug, Clone)]
pub struct ValueSelector {
    /// The kind of value it applies to.
    pub kind: ValueKind,
    /// The name pattern.
    pub pattern: Pattern,
}

impl ValueSelector {
    /// The accepted kinds, for messages.
    pub const EXPECTED_KINDS: &'static str = "local, global, arg, ret or attr";

    /// Parses a value selector; the error says what was expected.
    pub fn parse(raw: &str) -> Result<ValueSelector, String> {
        let parts = split(raw)?;
        let kind = match ValueKind::parse(parts.kind) {
            Some(kind) => kind,
            None if matches!(parts.kind, "pkg" | "file" | "obj" | "lib") => {
                return Err(format!(
                    "`{}:` selects scopes, not values; a value pattern's selector kind is {}",
                    parts.kind,
                    Self::EXPECTED_KINDS
                ))
            }
            None => {
                return Err(format!(
                    "unknown selector kind {:?}; expected {}",
                    parts.kind,
                    Self::EXPECTED_KINDS
                ))
            }
        };
        let match_type = parts.match_type(true)?;
        let pattern = Pattern::compile(match_type, non_empty(parts.pattern)?)?;
        Ok(ValueSelector { kind, pattern })
    }
}

/// A selector string cut at its first two colons.
struct Parts<'a> {
    kind: &'a str,
    match_token: Option<&'a str>,
    pattern: &'a str,
}

impl Parts<'_> {
    fn match_type(&self, value_selector: bool) -> Result<MatchType, String> {
        let Some(token) = self.match_token else {
            return Ok(MatchType::Glob);
        };
        let expected = if value_selector {
            "glob, regex, literal or tokens"
        } else {
            "glob, regex or literal"
        };
        match MatchType::parse(token) {
            Some(MatchType::Tokens) if !value_selector => Err(format!(
                "match type `tokens` applies to value selectors only; expected {expected}"
            )),
            Some(match_type) => Ok(match_type),
            None => Err(format!(
                "unknown match type {token:?} (the text between the first two colons); expected {expected}"
            )),
        }
    }
}

fn split(raw: &str) -> Result<Parts<'_>, String> {
    const SHAPE: &str = "KIND:PATTERN or KIND:MATCH:PATTERN";
    if raw.is_empty() {
        return Err(format!("empty selector; expected {SHAPE}"));
    }
    let mut pieces = raw.splitn(3, ':');
    let kind = pieces.next().unwrap_or_default();
    let Some(second) = pieces.next() else {
        return Err(format!("selector {raw:?} has no colon; expected {SHAPE}"));
    };
    Ok(match pieces.next() {
        Some(pattern) => Parts {
            kind,
            match_token: Some(second),
            pattern,
        },
        None => Parts {
            kind,
            match_token: None,
            pattern: second,
        },
    })
}

fn non_empty(pattern: &str) -> Result<&str, String> {
    if pattern.is_empty() {
        Err("empty pattern; expected a name or pattern after the colon".to_owned())
    } else {
        Ok(pattern)
    }
}

fn library_names() -> String {
    let names: Vec<&str> = Library::ALL.iter().map(|lib| lib.name()).collect();
    names.join(", ")
}

/// The last line of a multi-line message (`regex` puts the reason there).
fn last_line(text: &str) -> &str {
    let line = text
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or(text);
    line.trim().trim_start_matches("error: ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scope(raw: &str) -> ScopeSelector {
        ScopeSelector::parse(raw).unwrap_or_else(|err| panic!("{raw}: {err}"))
    }

    fn value(raw: &str) -> ValueSelector {
        ValueSelector::parse(raw).unwrap_or_else(|err| panic!("{raw}: {err}"))
    }

    fn pattern(selector: &ScopeSelector) -> &Pattern {
        match &selector.target {
            ScopeTarget::Package(p) | ScopeTarget::File(p) | ScopeTarget::Object(p) => p,
            ScopeTarget::Library(lib) => panic!("library {lib:?}"),
        }
    }

    fn scope_error(raw: &str) -> String {
        ScopeSelector::parse(raw)
            .err()
            .unwrap_or_else(|| panic!("{raw} parsed"))
    }

    fn value_error(raw: &str) -> String {
        ValueSelector::parse(raw)
            .err()
            .unwrap_or_else(|| panic!("{raw} parsed"))
    }

    #[test]
    fn the_match_type_defaults_to_glob_and_later_colons_belong_to_the_pattern() {
        let pkg = scope("pkg:my_app.core.*");
        assert!(matches!(pkg.target, ScopeTarget::Package(_)));
        assert!(pattern(&pkg).matches("my_app.core.services.billing"));
        assert!(!pattern(&pkg).matches("my_app.core"));
        let obj = scope("obj:regex:^my_app::service::[A-Z]\\w+$");
        assert!(pattern(&obj).matches("my_app::service::Handler"));
        assert!(!pattern(&obj).matches("my_app.service.Handler"));
        let literal = value("local:literal:a:b");
        assert_eq!(literal.kind, ValueKind::Local);
        assert!(literal.pattern.matches("a:b"));
    }

    #[test]
    fn globs_keep_star_within_a_path_component() {
        let file = scope("file:my_app/services/**/*.py");
        let p = pattern(&file);
        assert!(p.matches("my_app/services/api.py"));
        assert!(p.matches("my_app/services/v1/users/api.py"));
        assert!(!p.matches("my_app/api.py"));
        let star = scope("file:*.py");
        assert!(pattern(&star).matches("app.py"));
        assert!(!pattern(&star).matches("pkg/app.py"));
        assert!(value("arg:{user,order}_id").pattern.matches("order_id"));
    }

    #[test]
    fn regexes_search_unless_anchored() {
        let search = value("local:regex:secret");
        assert!(search.pattern.matches("my_secret_value"));
        let anchored = value("local:regex:^secret$");
        assert!(!anchored.pattern.matches("my_secret_value"));
        assert!(anchored.pattern.matches("secret"));
    }

    #[test]
    fn leading_dot_slash_is_dropped_from_file_globs_and_literals_only() {
        assert!(pattern(&scope("file:./app/main.py")).matches("app/main.py"));
        assert!(pattern(&scope("file:literal:././app/main.py")).matches("app/main.py"));
        let regex = scope("file:regex:./app");
        assert!(pattern(&regex).matches("x/app"), "regex kept as written");
    }

    #[test]
    fn lib_selectors_name_a_library() {
        let stdlib = scope("lib:stdlib");
        assert!(matches!(
            stdlib.target,
            ScopeTarget::Library(Library::Stdlib)
        ));
        assert!(!stdlib.is_catch_all());
        let err = scope_error("lib:python");
        assert!(err.contains("unknown library \"python\""), "{err}");
        assert!(err.contains("stdlib, site-packages, recorder"), "{err}");
        let err = scope_error("lib:literal:stdlib");
        assert!(err.contains("without a match type"), "{err}");
    }

    #[test]
    fn malformed_selectors_say_what_was_expected() {
        let cases: &[(&str, &str)] = &[
            (
                "",
                "empty selector; expected KIND:PATTERN or KIND:MATCH:PATTERN",
            ),
            ("pkg", "has no colon"),
            ("pkg:", "empty pattern"),
            ("pkg:regex:", "empty pattern"),
            (
                "package:app",
                "unknown selector kind \"package\"; expected pkg, file, obj or lib",
            ),
            ("local:password", "`local:` selects values, not scopes"),
            ("pkg:fuzzy:app.*", "unknown match type \"fuzzy\""),
            ("file:C:/app/*.py", "unknown match type \"C\""),
            ("pkg:tokens:app", "`tokens` applies to value selectors only"),
            ("pkg:regex:(unclosed", "bad regex \"(unclosed\""),
            ("file:glob:[a-", "bad glob \"[a-\""),
        ];
        for (raw, expected) in cases {
            let err = scope_error(raw);
            assert!(err.contains(expected), "{raw}: {err}");
            assert!(!err.contains('\n'), "{raw}: one line: {err}");
        }
        let cases: &[(&str, &str)] = &[
            ("pkg:app", "`pkg:` selects scopes, not values"),
            (
                "var:x",
                "unknown selector kind \"var\"; expected local, global, arg, ret or attr",
            ),
            ("local:fuzzy:x", "expected glob, regex, literal or tokens"),
            ("arg:tokens:,", "has no letters or digits"),
        ];
        for (raw, expected) in cases {
            let err = value_error(raw);
            assert!(err.contains(expected), "{raw}: {err}");
        }
    }

    #[test]
    fn catch_all_selectors_are_recognised() {
        for raw in [
            "pkg:*",
            "pkg:glob:*",
            "file:**",
            "file:**/*",
            "obj:regex:.*",
            "pkg:regex:^.*$",
            "pkg:regex:(?s).+",
        ] {
            assert!(scope(raw).is_catch_all(), "{raw}");
        }
        for raw in [
            "pkg:my_app.*",
            "file:**/*.py",
            "pkg:regex:^json",
            "pkg:literal:*",
            "obj:regex:.*x",
        ] {
            assert!(!scope(raw).is_catch_all(), "{raw}");
        }
    }

    /// A reference for globs made of literal characters, `*` and `?`, where
    /// neither wildcard matches `/`.
    fn reference_glob(pattern: &[char], candidate: &[char]) -> bool {
        match pattern.split_first() {
            None => candidate.is_empty(),
            Some(('*', rest)) => (0..=candidate.len())
                .take_while(|&n| n == 0 || candidate[n - 1] != '/')
                .any(|n| reference_glob(rest, &candidate[n..])),
            Some(('?', rest)) => candidate
                .split_first()
                .is_some_and(|(c, tail)| *c != '/' && reference_glob(rest, tail)),
            Some((p, rest)) => candidate
                .split_first()
                .is_some_and(|(c, tail)| c == p && reference_glob(rest, tail)),
        }
    }

    fn camel(words: &[String]) -> String {
        let mut name = words[0].clone();
        for word in &words[1..] {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                name.extend(first.to_uppercase());
                name.extend(chars);
            }
        }
        name
    }

    proptest! {
        #[test]
        fn literal_selectors_match_exactly_their_text(text in "[a-z_./:*?]{1,12}", candidate in "[a-z_./:*?]{0,12}") {
            let selector = scope(&format!("obj:literal:{text}"));
            prop_assert!(pattern(&selector).matches(&text));
            prop_assert_eq!(pattern(&selector).matches(&candidate), candidate == text);
        }

        #[test]
        fn globs_agree_with_the_reference(
            glob in "([ab./]|\\*|\\?){1,8}".prop_filter("no **", |g| !g.contains("**")),
            candidate in "[ab./]{0,8}",
        ) {
            let selector = scope(&format!("obj:glob:{glob}"));
            let expected = reference_glob(&glob.chars().collect::<Vec<_>>(), &candidate.chars().collect::<Vec<_>>());
            prop_assert_eq!(pattern(&selector).matches(&candidate), expected, "glob {:?} vs {:?}", glob, candidate);
        }

        #[test]
        fn double_star_spans_any_directories(dirs in proptest::collection::vec("[a-z]{1,4}", 0..4), name in "[a-z]{1,6}") {
            let mut path = dirs.join("/");
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(&name);
            path.push_str(".py");
            prop_assert!(pattern(&scope("file:**/*.py")).matches(&path), "{}", path);
            prop_assert!(pattern(&scope("file:**")).matches(&path), "{}", path);
            prop_assert_eq!(pattern(&scope("file:*.py")).matches(&path), dirs.is_empty(), "{}", path);
        }

        #[test]
        fn escaped_regexes_search_and_anchored_ones_compare(text in "[a-z.*+?()\\[\\]{}|^$\\\\]{1,8}", candidate in "[a-z.*+?()]{0,10}") {
            let escaped = regex::escape(&text);
            let search = value(&format!("local:regex:{escaped}"));
            prop_assert_eq!(search.pattern.matches(&candidate), candidate.contains(&text));
            let whole = value(&format!("local:regex:^{escaped}$"));
            prop_assert_eq!(whole.pattern.matches(&candidate), candidate == text);
            prop_assert!(whole.pattern.matches(&text));
        }

        #[test]
        fn token_entries_match_adjacent_words_in_any_spelling(
            words in proptest::collection::vec("[a-z]{2,6}", 1..5),
            start in 0usize..5,
            len in 1usize..3,
            other in "[a-z]{2,6}",
        ) {
            let start = start % words.len();
            let end = (start + len).min(words.len());
            let entry = words[start..end].join(" ");
            let selector = value(&format!("attr:tokens:{entry}"));
            for name in [words.join("_"), camel(&words), words.join("-").to_uppercase(), format!("_{}__", words.join("__"))] {
                prop_assert!(selector.pattern.matches(&name), "{:?} in {:?}", entry, name);
            }
            let absent = value(&format!("attr:tokens:{other}"));
            prop_assert_eq!(absent.pattern.matches(&words.join("_")), words.contains(&other));
        }
    }
}
