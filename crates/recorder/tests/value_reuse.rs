//! Reusing the bytes of unchanged values changes nothing in the trace: a
//! program that mutates lists, dicts, sets and instances in place, rebinds
//! locals, frees and reallocates objects, builds cycles and hits every
//! preview limit records byte for byte the same events file, in both
//! formats, with reuse on and off (`CODETRACER_VALUE_REUSE=0`).

mod support;

use std::fs;

use support::record;

const PROGRAM: &str = r#"
class Checker:
    def __init__(self):
        self.messages = []
        self.scope = {"a": 1}
        self.depth = 0
        self.password = "hunter2"
        self.names = set()

    def visit(self, n):
        for i in range(n):
            self.depth += 1
            if i % 3 == 0:
                self.messages.append(("msg", i))
            if i % 4 == 1:
                self.scope[i] = self.scope.pop("a", 0)
                self.scope["a"] = i
            if i % 5 == 2:
                self.names.add(str(i))
            self.depth -= 1
        return self.messages

class Leaf:
    pass

def churn(n):
    items = [Leaf() for _ in range(4)]
    deep = [[[[[["bottom"]]]]]]
    wide = list(range(100))
    cyc = []
    cyc.append(cyc)
    inst = Leaf()
    inst.me = inst
    inst.data = {"k": [1, 2, 3]}
    big = "x" * 5000
    for i in range(n):
        old = items.pop(0)
        del old
        items.append(Leaf())
        items[0].tag = i
        wide[i % 100] = i
        deep[0][0][0][0][0].append(i)
        inst.data["k"][0] = i % 2
        if i % 7 == 0:
            inst = Leaf()
            inst.me = inst
            inst.data = {"k": [1, 2, 3]}
        same = (1, 2.5, "s", None, True, Leaf, len)
        ba = bytearray(b"ab")
        ba[0] = i % 256
    return len(items) + len(big)

def locals_share(a, b, c, d, e, f):
    for _ in range(3):
        a, b = b, a
        total = [a, b, c, d, e, f]
    return total

checker = Checker()
checker.visit(30)
churn(40)
locals_share(list(range(40)), {"x": list(range(40))}, [[1] * 40], Leaf(), "s", checker)
"#;

/// Records `PROGRAM` with reuse on or off; the events file's bytes.
fn events_file(root: &std::path::Path, format: &str, reuse: bool) -> Vec<u8> {
    if reuse {
        std::env::remove_var("CODETRACER_VALUE_REUSE");
    } else {
        std::env::set_var("CODETRACER_VALUE_REUSE", "0");
    }
    let dir = record(root, format, PROGRAM);
    let file = if format == "binary" {
        "trace.bin"
    } else {
        "trace.json"
    };
    let bytes = fs::read(dir.join(file)).expect("the events file");
    fs::remove_dir_all(&dir).expect("cleanup");
    bytes
}

#[test]
fn traces_are_identical_with_reuse_on_and_off() {
    let root = tempfile::tempdir().expect("tempdir");
    for format in ["json", "binary"] {
        let off = events_file(root.path(), format, false);
        let on = events_file(root.path(), format, true);
        assert!(off.len() > 10_000, "{format}: the program recorded values");
        assert!(on == off, "{format}: the traces differ");
    }
    let json = {
        std::env::remove_var("CODETRACER_VALUE_REUSE");
        let dir = record(root.path(), "json", PROGRAM);
        fs::read_to_string(dir.join("trace.json")).expect("trace.json")
    };
    // The redacted field and the limits are there.
    assert!(json.contains("<redacted>"));
    assert!(json.contains("<recursion>"));
    assert!(json.contains("\"is_slice\":true"));
}
