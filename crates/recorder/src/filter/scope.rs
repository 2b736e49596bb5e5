//! A scope (one code object) as the tracer describes it, and the names its
//! rules are matched against: module names, `module.qualname` object names,
//! and its file path, project-relative per filter and as given.

use std::path::Path;

use super::location::InterpreterPaths;
use super::model::{FilterSource, ScopeRule};
use super::selector::ScopeTarget;

/// What the tracer knows about a code object, as plain data.
#[derive(Debug, Clone, Copy)]
pub struct ScopeContext<'a> {
    /// `co_filename`, as given.
    pub file_path: &'a str,
    /// `co_qualname` (`<module>` for a module body).
    pub qualname: &'a str,
    /// `__name__` of the code's module globals, when the tracer could read it.
    pub module_name: Option<&'a str>,
}

/// The names one scope is matched by.
#[derive(Debug)]
pub(super) struct Subject<'a> {
    file: &'a str,
    /// The file relative to each filter's project root, by filter index.
    relative: Vec<Option<&'a str>>,
    /// Module names, the preferred first.
    modules: Vec<String>,
    /// `module.qualname` per module name (the bare qualname without one).
    objects: Vec<String>,
}

impl<'a> Subject<'a> {
    /// The names of `context` under the filters `sources`.
    ///
    /// The module name is `__name__`; when that is missing or `__main__` (the
    /// script itself), the name derived from the file's path under the
    /// deepest project root that contains it comes first, so `pkg:` and `obj:`
    /// rules written for 0.3's path-derived names keep matching.
    pub(super) fn new(context: &ScopeContext<'a>, sources: &[FilterSource]) -> Subject<'a> {
        let file = context.file_path;
        let relative: Vec<Option<&'a str>> = sources
            .iter()
            .map(|source| {
                let root = source.project_root.as_deref()?;
                Path::new(file).strip_prefix(root).ok()?.to_str()
            })
            .collect();
        let runtime_name = context.module_name.filter(|name| !name.is_empty());
        let mut modules = Vec::new();
        if matches!(runtime_name, None | Some("__main__")) {
            let deepest = sources
                .iter()
                .zip(&relative)
                .filter_map(|(source, rel)| Some((source.project_root.as_deref()?, (*rel)?)))
                .max_by_key(|(root, _)| root.components().count());
            if let Some(module) = deepest.and_then(|(_, rel)| module_from_relative_path(rel)) {
                modules.push(module);
            }
        }
        if let Some(name) = runtime_name {
            if !modules.iter().any(|module| module == name) {
                modules.push(name.to_owned());
            }
        }
        let objects = if modules.is_empty() {
            vec![context.qualname.to_owned()]
        } else {
            modules
                .iter()
                .map(|module| format!("{module}.{}", context.qualname))
                .collect()
        };
        Subject {
            file,
            relative,
            modules,
            objects,
        }
    }

    /// Whether `rule`'s selector matches this scope.
    pub(super) fn matches(&self, rule: &ScopeRule, paths: &InterpreterPaths) -> bool {
        match &rule.selector.target {
            ScopeTarget::Package(pattern) => self.modules.iter().any(|m| pattern.matches(m)),
            ScopeTarget::Object(pattern) => self.objects.iter().any(|o| pattern.matches(o)),
            ScopeTarget::File(pattern) => {
                let relative = self.relative.get(rule.source).copied().flatten();
                relative.is_some_and(|rel| pattern.matches(rel)) || pattern.matches(self.file)
            }
            ScopeTarget::Library(library) => paths.contains(*library, self.file),
        }
    }

    /// Whether the scope is the interpreter's own code (standard library or recorder).
    pub(super) fn is_interpreter_own(&self, paths: &InterpreterPaths) -> bool {
        paths.is_interpreter_own(self.file)
    }

    /// The preferred `module.qualname`: the name `ret:` selectors see.
    pub(super) fn object_name(&self) -> &str {
        self.objects.first().map_or("", String::as_str)
    }
}

/// `pkg/mod.py` → `pkg.mod`, `pkg/__init__.py` → `pkg`.
fn module_from_relative_path(relative: &str) -> Option<String> {
    let stem = relative.strip_suffix(".py").unwrap_or(relative);
    let mut parts: Vec<&str> = stem.split('/').filter(|part| !part.is_empty()).collect();
    if parts.last() == Some(&"__init__") {
        parts.pop();
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::model::FilterMeta;

    fn source(root: Option<&str>) -> FilterSource {
        FilterSource {
            path: "f.toml".into(),
            sha256: String::new(),
            meta: FilterMeta {
                name: "f".into(),
                version: 1,
                description: None,
                labels: Vec::new(),
            },
            project_root: root.map(Into::into),
        }
    }

    #[test]
    fn the_script_is_named_by_its_path_under_the_deepest_project_root() {
        let sources = [source(None), source(Some("/p")), source(Some("/p/app"))];
        let context = ScopeContext {
            file_path: "/p/app/tools/cli.py",
            qualname: "main",
            module_name: Some("__main__"),
        };
        let subject = Subject::new(&context, &sources);
        assert_eq!(subject.modules, ["tools.cli", "__main__"]);
        assert_eq!(subject.objects, ["tools.cli.main", "__main__.main"]);
        assert_eq!(subject.object_name(), "tools.cli.main");
        assert_eq!(
            subject.relative,
            [None, Some("app/tools/cli.py"), Some("tools/cli.py")]
        );
    }

    #[test]
    fn imported_modules_keep_their_runtime_name() {
        let sources = [source(Some("/p"))];
        let context = ScopeContext {
            file_path: "/p/src/my_app/core.py",
            qualname: "Engine.run",
            module_name: Some("my_app.core"),
        };
        let subject = Subject::new(&context, &sources);
        assert_eq!(subject.modules, ["my_app.core"]);
        assert_eq!(subject.object_name(), "my_app.core.Engine.run");
    }

    #[test]
    fn package_init_files_and_unknown_modules() {
        assert_eq!(
            module_from_relative_path("pkg/__init__.py").as_deref(),
            Some("pkg")
        );
        assert_eq!(module_from_relative_path("tool").as_deref(), Some("tool"));
        assert_eq!(module_from_relative_path("__init__.py"), None);
        let context = ScopeContext {
            file_path: "<string>",
            qualname: "<module>",
            module_name: None,
        };
        let subject = Subject::new(&context, &[source(Some("/p"))]);
        assert!(subject.modules.is_empty());
        assert_eq!(subject.object_name(), "<module>");
        let empty_name = ScopeContext {
            file_path: "/p/tool.py",
            qualname: "run",
            module_name: Some(""),
        };
        let subject = Subject::new(&empty_name, &[source(Some("/p"))]);
        assert_eq!(subject.modules, ["tool"]);
        assert_eq!(subject.object_name(), "tool.run");
    }
}
