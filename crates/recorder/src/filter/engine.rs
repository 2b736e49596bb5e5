//! The filter engine: a loaded chain plus the interpreter's directories,
//! deciding per scope whether it is traced and with which value policy.
//!
//! Rules are walked in chain order. Every matching rule's `exec` and
//! `value_default` replace the earlier ones; its value patterns are added, and
//! the patterns of later rules are consulted first. One exception keeps the
//! interpreter's own code out of traces: a rule whose selector matches
//! everything (see [`ScopeSelector::is_catch_all`](super::selector::ScopeSelector::is_catch_all))
//! never switches the standard library or the recorder to `trace`; a selector
//! that names them (`lib:stdlib`, `pkg:json`, ...) does.

use std::sync::Arc;

use super::location::InterpreterPaths;
use super::model::{ExecDecision, FilterChain};
use super::scope::{ScopeContext, Subject};
use super::value_policy::ValuePolicy;

/// What the tracer does with one scope (code object).
#[derive(Debug, Clone)]
pub enum ScopeResolution {
    /// Record nothing; `reason` is the deciding rule's, if it gave one.
    Skip {
        /// The `reason` of the rule that decided `skip`.
        reason: Option<Arc<str>>,
    },
    /// Record the scope, capturing values as the policy says.
    Trace(Arc<ValuePolicy>),
}

impl ScopeResolution {
    /// The exec decision alone.
    #[cfg(test)]
    pub fn exec(&self) -> ExecDecision {
        match self {
            ScopeResolution::Skip { .. } => ExecDecision::Skip,
            ScopeResolution::Trace(_) => ExecDecision::Trace,
        }
    }
}

/// A filter chain compiled against the running interpreter.
#[derive(Debug)]
pub struct FilterEngine {
    chain: FilterChain,
    paths: InterpreterPaths,
}

impl FilterEngine {
    /// An engine for `chain`, placing `lib:` selectors with `paths`.
    pub fn new(chain: FilterChain, paths: InterpreterPaths) -> FilterEngine {
        FilterEngine { chain, paths }
    }

    /// The chain, for the metadata summary and the `[io]` settings.
    pub fn chain(&self) -> &FilterChain {
        &self.chain
    }

    /// The decision for one scope. Pure and deterministic: the tracer calls it
    /// once per code object and caches the result with the code object.
    pub fn resolve_scope(&self, context: &ScopeContext<'_>) -> ScopeResolution {
        let subject = Subject::new(context, &self.chain.sources);
        let interpreter_own = subject.is_interpreter_own(&self.paths);
        let mut exec = self.chain.default_exec;
        let mut reason = None;
        let mut value_default = self.chain.default_value_action;
        let mut matched = Vec::new();
        for rule in &self.chain.rules {
            if !subject.matches(rule, &self.paths) {
                continue;
            }
            match rule.exec {
                Some(ExecDecision::Trace) if interpreter_own && rule.selector.is_catch_all() => {}
                Some(decision) => {
                    exec = decision;
                    reason = rule.reason.clone();
                }
                None => {}
            }
            if let Some(action) = rule.value_default {
                value_default = action;
            }
            matched.push(rule);
        }
        match exec {
            ExecDecision::Skip => ScopeResolution::Skip { reason },
            ExecDecision::Trace => {
                let patterns = matched
                    .iter()
                    .rev()
                    .flat_map(|rule| rule.value_patterns.iter().cloned());
                ScopeResolution::Trace(Arc::new(ValuePolicy::new(
                    value_default,
                    patterns,
                    subject.object_name(),
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::loader::ChainBuilder;
    use crate::filter::model::{ValueAction, ValueKind};

    const HEADER: &str = "[meta]\nname = \"project\"\nversion = 1\n";

    fn paths() -> InterpreterPaths {
        InterpreterPaths {
            stdlib: vec!["/py/lib/python3.12".into()],
            site_packages: vec!["/venv/lib/python3.12/site-packages".into()],
            recorder: vec!["/venv/lib/python3.12/site-packages/codetracer_python_recorder".into()],
        }
    }

    /// An engine of the builtin default plus `project` (rooted at `/p`), if given.
    fn engine(project: Option<&str>) -> FilterEngine {
        let mut chain = ChainBuilder::default();
        chain.push_builtin().unwrap_or_else(|e| panic!("{e}"));
        if let Some(text) = project {
            chain
                .push_text(
                    "/p/.codetracer/trace-filter.toml".into(),
                    &format!("{HEADER}{text}"),
                    Some("/p".into()),
                )
                .unwrap_or_else(|e| panic!("{e}"));
        }
        FilterEngine::new(chain.finish().unwrap_or_else(|e| panic!("{e}")), paths())
    }

    fn resolve(engine: &FilterEngine, file: &str, module: &str, qualname: &str) -> ScopeResolution {
        engine.resolve_scope(&ScopeContext {
            file_path: file,
            qualname,
            module_name: Some(module),
        })
    }

    fn policy(resolution: ScopeResolution) -> Arc<ValuePolicy> {
        match resolution {
            ScopeResolution::Trace(policy) => policy,
            ScopeResolution::Skip { reason } => panic!("skipped: {reason:?}"),
        }
    }

    const APP: &str = "/p/app/billing.py";
    const JSON: &str = "/py/lib/python3.12/json/decoder.py";
    const REQUESTS: &str = "/venv/lib/python3.12/site-packages/requests/api.py";
    const RECORDER: &str = "/venv/lib/python3.12/site-packages/codetracer_python_recorder/cli.py";

    #[test]
    fn the_builtin_default_skips_the_interpreter_and_traces_everything_else() {
        let engine = engine(None);
        let skipped = resolve(&engine, JSON, "json.decoder", "JSONDecoder.decode");
        assert!(
            matches!(&skipped, ScopeResolution::Skip { reason: Some(r) } if r.contains("standard library")),
            "{skipped:?}"
        );
        assert_eq!(
            resolve(&engine, "<frozen os>", "os", "fspath").exec(),
            ExecDecision::Skip
        );
        assert_eq!(
            resolve(&engine, RECORDER, "codetracer_python_recorder.cli", "main").exec(),
            ExecDecision::Skip
        );
        assert_eq!(
            resolve(&engine, REQUESTS, "requests.api", "get").exec(),
            ExecDecision::Trace
        );
        assert_eq!(
            resolve(&engine, APP, "app.billing", "charge").exec(),
            ExecDecision::Trace
        );
        let shim = "/venv/lib/python3.12/site-packages/_distutils_hack/__init__.py";
        assert_eq!(
            resolve(&engine, shim, "_distutils_hack", "<module>").exec(),
            ExecDecision::Skip
        );
        let hook = "/venv/lib/python3.12/site-packages/_virtualenv.py";
        assert_eq!(
            resolve(&engine, hook, "_virtualenv", "<module>").exec(),
            ExecDecision::Skip
        );
    }

    #[test]
    fn the_last_matching_rule_decides_exec_and_value_default() {
        let engine = engine(Some(
            r#"[scope]
default_exec = "trace"
default_value_action = "allow"
[[scope.rules]]
selector = "pkg:app.*"
exec = "skip"
value_default = "drop"
[[scope.rules]]
selector = "obj:app.billing.charge"
exec = "trace"
[[scope.rules]]
selector = "file:app/billing.py"
value_default = "redact"
"#,
        ));
        assert_eq!(
            resolve(&engine, APP, "app.billing", "refund").exec(),
            ExecDecision::Skip
        );
        let charge = policy(resolve(&engine, APP, "app.billing", "charge"));
        assert_eq!(
            charge.action_for(ValueKind::Local, "amount"),
            ValueAction::Redact
        );
        assert_eq!(
            charge.uniform_action(ValueKind::Local),
            None,
            "the builtin's secret patterns"
        );
        let other = policy(resolve(&engine, "/p/tools/x.py", "tools.x", "run"));
        assert_eq!(
            other.action_for(ValueKind::Local, "amount"),
            ValueAction::Allow
        );
    }

    #[test]
    fn value_patterns_append_and_later_rules_are_consulted_first() {
        let engine = engine(Some(
            r#"[scope]
default_exec = "trace"
default_value_action = "allow"
[[scope.rules]]
selector = "pkg:app.*"
[[scope.rules.value_patterns]]
selector = "local:tmp_*"
action = "drop"
[[scope.rules.value_patterns]]
selector = "local:tmp_keep"
action = "allow"
[[scope.rules]]
selector = "obj:app.billing.*"
[[scope.rules.value_patterns]]
selector = "local:literal:tmp_keep"
action = "redact"
[[scope.rules.value_patterns]]
selector = "local:literal:session"
action = "allow"
"#,
        ));
        let billing = policy(resolve(&engine, APP, "app.billing", "charge"));
        assert_eq!(
            billing.action_for(ValueKind::Local, "tmp_keep"),
            ValueAction::Redact,
            "later rule first"
        );
        assert_eq!(
            billing.action_for(ValueKind::Local, "tmp_x"),
            ValueAction::Drop,
            "earlier rule still applies"
        );
        assert_eq!(
            billing.action_for(ValueKind::Local, "session"),
            ValueAction::Allow,
            "explicit allow beats the builtin"
        );
        assert_eq!(
            billing.action_for(ValueKind::Local, "password"),
            ValueAction::Redact,
            "the builtin still applies"
        );
        assert_eq!(
            billing.action_for(ValueKind::Arg, "session"),
            ValueAction::Redact,
            "the allow was for locals only"
        );
        let other = policy(resolve(&engine, "/p/app/users.py", "app.users", "list"));
        assert_eq!(
            other.action_for(ValueKind::Local, "tmp_keep"),
            ValueAction::Drop,
            "first pattern of the rule wins"
        );
    }

    #[test]
    fn catch_all_trace_rules_do_not_reach_into_the_interpreter() {
        for selector in ["pkg:glob:*", "file:**", "obj:regex:.*"] {
            let engine = engine(Some(&format!(
                "[scope]\ndefault_exec = \"trace\"\ndefault_value_action = \"allow\"\n[[scope.rules]]\nselector = \"{selector}\"\nexec = \"trace\"\n"
            )));
            assert_eq!(
                resolve(&engine, JSON, "json.decoder", "decode").exec(),
                ExecDecision::Skip,
                "{selector}"
            );
            assert_eq!(
                resolve(&engine, RECORDER, "codetracer_python_recorder.cli", "main").exec(),
                ExecDecision::Skip,
                "{selector}"
            );
            assert_eq!(
                resolve(
                    &engine,
                    "/venv/lib/python3.12/site-packages/_virtualenv.py",
                    "_virtualenv",
                    "x"
                )
                .exec(),
                ExecDecision::Trace,
                "{selector}: not interpreter code"
            );
        }
        for selector in ["lib:stdlib", "pkg:json.*", "file:**/json/*.py"] {
            let engine = engine(Some(&format!(
                "[scope]\ndefault_exec = \"trace\"\ndefault_value_action = \"allow\"\n[[scope.rules]]\nselector = \"{selector}\"\nexec = \"trace\"\n"
            )));
            assert_eq!(
                resolve(&engine, JSON, "json.decoder", "decode").exec(),
                ExecDecision::Trace,
                "{selector}"
            );
        }
    }

    #[test]
    fn file_selectors_see_the_project_relative_and_the_given_path() {
        let engine = engine(Some(
            r#"[scope]
default_exec = "trace"
default_value_action = "allow"
[[scope.rules]]
selector = "file:app/*.py"
exec = "skip"
[[scope.rules]]
selector = 'file:regex:^/srv/jobs/.*\.py$'
exec = "skip"
"#,
        ));
        assert_eq!(
            resolve(&engine, APP, "app.billing", "f").exec(),
            ExecDecision::Skip
        );
        assert_eq!(
            resolve(&engine, "/q/app/billing.py", "app.billing", "f").exec(),
            ExecDecision::Trace,
            "outside the project"
        );
        assert_eq!(
            resolve(&engine, "/srv/jobs/nightly.py", "nightly", "f").exec(),
            ExecDecision::Skip
        );
    }

    #[test]
    fn returns_are_matched_by_the_function_name() {
        let engine = engine(Some(
            r#"[scope]
default_exec = "trace"
default_value_action = "allow"
[[scope.rules]]
selector = "obj:app.auth.*"
[[scope.rules.value_patterns]]
selector = "ret:literal:app.auth.login"
action = "drop"
"#,
        ));
        let login = policy(resolve(&engine, "/p/app/auth.py", "app.auth", "login"));
        assert_eq!(login.return_action(), ValueAction::Drop);
        let logout = policy(resolve(&engine, "/p/app/auth.py", "app.auth", "logout"));
        assert_eq!(
            logout.return_action(),
            ValueAction::Allow,
            "module `auth` is not the function's name"
        );
        let token = policy(resolve(
            &engine,
            "/p/app/auth.py",
            "app.auth",
            "Session.refresh_token",
        ));
        assert_eq!(token.return_action(), ValueAction::Redact);
        assert_eq!(
            token.action_for(ValueKind::Ret, "app.auth.Session.refresh_token"),
            ValueAction::Redact
        );
    }
}
