"""IO capture: what the program wrote and read becomes IO events, and the
program cannot tell: its streams behave as the originals, its output is
byte-identical to an untraced run, and the recorder's own lines are never
recorded as the program's. (Exact events in both formats: tests/io_capture.rs.)"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TIMEOUT, clean_env, is_complete, is_partial, recorder_entries, run, run_cli, write_script

#: `EventLogKind` numbers of the IO events.
WRITE, WRITE_OTHER, READ = 0, 2, 3


def plain_env(**extra: str) -> dict[str, str]:
    """A clean environment without ``PYTHONUNBUFFERED``, so stdout is block-buffered as usual."""
    return {key: value for key, value in clean_env(**extra).items() if key != "PYTHONUNBUFFERED"}


def io_events(trace_dir: Path) -> list[tuple[int, dict, str]]:
    """``(kind, metadata, content)`` of every IO event of ``trace.json``."""
    events = json.loads((trace_dir / "trace.json").read_text())
    found = []
    for event in events:
        record = event.get("Event")
        if record and record["kind"] in (WRITE, WRITE_OTHER, READ):
            found.append((record["kind"], json.loads(record["metadata"]), record["content"]))
    return found


def content_bytes(metadata: dict, content: str) -> bytes:
    """The bytes an IO event stands for (its content, base64-decoded when the metadata says so)."""
    return base64.b64decode(content) if metadata.get("encoding") == "base64" else content.encode()


def traced_and_untraced(tmp_path: Path, source: str, *flags: str, stdin: str | None = None, **env: str):
    """Runs ``source`` untraced and through the CLI (JSON trace); returns both runs and the trace directory."""
    script = write_script(tmp_path, source)
    out = tmp_path / "trace"
    untraced = run([str(script)], env=plain_env(**env), input=stdin)
    traced = run_cli(["--out-dir", str(out), "--format", "json", *flags, str(script)], env=plain_env(**env), input=stdin)
    return traced, untraced, out


def assert_same_run(traced, untraced) -> None:
    assert (traced.returncode, traced.stdout, traced.stderr) == (
        untraced.returncode,
        untraced.stdout,
        untraced.stderr,
    ), f"traced:\n{traced.describe()}\nuntraced:\n{untraced.describe()}"


STREAM_PROBE = """
import io, json, sys

def describe(stream):
    return {
        "class": type(stream).__name__ if type(stream) is stream.__class__ else stream.__class__.__name__,
        "isinstance": isinstance(stream, io.TextIOWrapper) and isinstance(stream, io.TextIOBase),
        "encoding": stream.encoding,
        "errors": stream.errors,
        "fileno": stream.fileno(),
        "isatty": stream.isatty(),
        "line_buffering": stream.line_buffering,
        "name": stream.name,
        "mode": stream.mode,
        "closed": stream.closed,
        "repr": repr(stream),
        "buffer": repr(stream.buffer),
        "same_buffer": stream.buffer is stream.buffer,
    }

print(json.dumps([describe(s) for s in (sys.stdout, sys.stderr, sys.stdin)]), flush=True)
print("a", "b", sep="-", end="!\\n", flush=True)
sys.stdout.writelines(line for line in ["x\\n", "y\\n"])
sys.stdout.flush()  # text and bytes in call order
sys.stdout.buffer.write(b"raw bytes\\n")
sys.stdout.buffer.writelines([b"b1", bytearray(b"b2"), memoryview(b"b3\\n")])
sys.stdout.buffer.flush()
chunk = bytearray(4)
filled = sys.stdin.buffer.readinto(chunk)
first = sys.stdin.readline()
rest = [line for line in sys.stdin]
print(filled, bytes(chunk), repr(first), rest)
with sys.stdout as entered:
    print(entered is sys.stdout)
"""


def test_the_streams_behave_as_the_originals_and_the_output_is_identical(tmp_path):
    stdin = "abcdfirst\nsecond\nthird\n"
    traced, untraced, out = traced_and_untraced(tmp_path, STREAM_PROBE, stdin=stdin)
    assert_same_run(traced, untraced)
    described = json.loads(traced.stdout.splitlines()[0])
    assert [stream["class"] for stream in described] == ["TextIOWrapper"] * 3
    assert all(stream["isinstance"] and stream["same_buffer"] for stream in described)
    events = io_events(out)
    written = b"".join(content_bytes(meta, text) for kind, meta, text in events if kind == WRITE)
    assert written.decode() == traced.stdout
    read = [content_bytes(meta, text) for kind, meta, text in events if kind == READ]
    assert read == [b"abcd", b"first\n", b"second\n", b"third\n"]
    assert {meta["stream"] for kind, meta, _ in events if kind == READ} == {"stdin"}


@pytest.mark.parametrize(
    "source",
    [
        # redirect_stdout: the program's own buffer gets the text, the console does not.
        "import contextlib, io\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n"
        "    print('hidden')\nprint('captured', repr(buf.getvalue()))\n",
        # A program that closes sys.stdout meets the same ValueError.
        "import sys\nprint('before')\nsys.stdout.close()\ntry:\n    print('after')\n"
        "except ValueError as error:\n    sys.stderr.write(f'{type(error).__name__}: {error}\\n')\n",
        # A program that replaces sys.stdout writes to its own object.
        "import io, sys\nprint('one')\nmine = io.StringIO()\nsys.stdout = mine\nprint('two')\n"
        "sys.stderr.write(mine.getvalue())\n",
        # Writing something that is not a str raises the original's TypeError.
        "import sys\ntry:\n    sys.stdout.write(b'x')\nexcept TypeError as error:\n    print(error)\n",
    ],
    ids=["redirect_stdout", "closed", "replaced", "type_error"],
)
@pytest.mark.parametrize("mode", ["proxies", "proxies+fd"])
def test_programs_that_handle_their_streams_behave_as_without_the_recorder(tmp_path, source, mode):
    traced, untraced, _ = traced_and_untraced(tmp_path, source, "--io-capture", mode)
    assert_same_run(traced, untraced)


def test_stop_gives_the_streams_back_and_a_stream_the_program_replaced_stays(tmp_path):
    script = write_script(
        tmp_path,
        f"""
        import io, sys
        import codetracer_python_recorder as recorder
        originals = (sys.stdout, sys.stderr, sys.stdin)
        recorder.start({str(tmp_path / 'trace')!r})
        proxied = [type(stream) is not type(original) for stream, original in zip((sys.stdout, sys.stderr, sys.stdin), originals)]
        mine = io.StringIO()
        sys.stderr = mine
        recorder.stop()
        print(proxied, sys.stdout is originals[0], sys.stderr is mine, sys.stdin is originals[2])
        """,
    )
    result = run([str(script)], env=plain_env())
    assert result.returncode == 0, result.describe()
    assert result.stdout == "[True, True, True] True True True\n"


def test_a_closed_pipe_raises_broken_pipe_error_as_under_plain_python(tmp_path):
    script = write_script(tmp_path, "for i in range(200_000):\n    print('line', i)\n")

    def first_line_then_close(args: list[str]) -> tuple[str, int, str]:
        process = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=plain_env(),
            cwd=tmp_path,
        )
        first = process.stdout.readline().decode()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        return first, process.wait(timeout=TIMEOUT), stderr.strip().splitlines()[-1]

    plain = first_line_then_close([str(script)])
    for mode in ("proxies", "proxies+fd"):
        traced = first_line_then_close(
            ["-m", "codetracer_python_recorder", "--out-dir", str(tmp_path / mode), "--io-capture", mode, str(script)]
        )
        assert traced == plain == ("line 0\n", 1, "BrokenPipeError: [Errno 32] Broken pipe")


@pytest.mark.parametrize("mode", ["proxies", "proxies+fd"])
def test_pytest_capsys_and_capfd_work_under_the_recorder(tmp_path, mode):
    write_script(
        tmp_path,
        """
        import os

        def test_capsys(capsys):
            print("to capsys")
            assert capsys.readouterr().out == "to capsys\\n"

        def test_capfd(capfd):
            print("to capfd")
            os.write(1, b"raw\\n")
            assert capfd.readouterr().out == "to capfd\\nraw\\n"
        """,
        name="test_capture.py",
    )
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_capture.py"]
    untraced = run(args, env=plain_env(), cwd=tmp_path)
    traced = run_cli(
        ["--out-dir", str(tmp_path / "trace"), "--format", "binary", "--io-capture", mode, *args],
        env=plain_env(),
        cwd=tmp_path,
    )
    assert untraced.returncode == traced.returncode == 0, traced.describe()
    assert "2 passed" in traced.stdout


def test_binary_and_undecodable_output_is_recorded_losslessly(tmp_path):
    script = write_script(
        tmp_path,
        """
        import sys
        sys.stdout.buffer.write(b"\\xff\\xfe not utf-8\\n")
        sys.stdout.flush()
        sys.stdout.reconfigure(errors="surrogateescape")
        print("escaped \\udcff")
        print("plain é")
        """,
    )
    out = tmp_path / "trace"

    def output(args: list[str]) -> bytes:
        completed = subprocess.run([sys.executable, *args], capture_output=True, env=plain_env(), timeout=TIMEOUT)
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    traced = output(["-m", "codetracer_python_recorder", "--out-dir", str(out), "--format", "json", str(script)])
    assert traced == output([str(script)]) == b"\xff\xfe not utf-8\nescaped \xff\nplain \xc3\xa9\n"
    writes = [(meta.get("encoding"), content_bytes(meta, text)) for kind, meta, text in io_events(out) if kind == WRITE]
    assert writes == [
        ("base64", b"\xff\xfe not utf-8\n"),
        ("base64", b"escaped \xff\n"),
        (None, "plain é\n".encode()),
    ]


@pytest.mark.parametrize("mode", ["proxies", "proxies+fd"])
def test_the_recorders_own_stderr_lines_are_never_recorded(tmp_path, mode):
    source = """
    import sys
    import codetracer_python_recorder as recorder
    from codetracer_python_recorder import _native
    print("program err 1", file=sys.stderr, flush=True)
    _native.log_message("warn", "a recorder diagnostic")
    try:
        recorder.start(sys.argv[0] + ".second-trace")
    except recorder.UsageError as error:
        print("caught", error.code)
    print("program err 2", file=sys.stderr, flush=True)
    """
    script = write_script(tmp_path, source)
    out = tmp_path / "trace"
    traced = run_cli(["--out-dir", str(out), "--format", "json", "--io-capture", mode, "--codetracer-json-errors", str(script)], env=plain_env())
    assert traced.returncode == 0, traced.describe()
    lines = traced.stderr.splitlines()
    assert lines[0] == "program err 1" and lines[-1] == "program err 2", traced.stderr
    assert "a recorder diagnostic" in lines[1] and "ERR_ALREADY_TRACING" in lines[2], traced.stderr
    recorded = [content_bytes(meta, text).decode() for kind, meta, text in io_events(out)]
    assert recorded == ["program err 1\n", "caught ERR_ALREADY_TRACING\n", "program err 2\n"]


@pytest.mark.parametrize("flags, env", [(["--io-capture", "off"], {}), ([], {"CODETRACER_CAPTURE_IO": "0"})])
def test_capture_off_leaves_the_streams_alone_and_records_no_io(tmp_path, flags, env):
    source = "import sys, io\nprint(type(sys.stdout) is io.TextIOWrapper)\n"
    traced, _, out = traced_and_untraced(tmp_path, source, *flags, **env)
    assert traced.returncode == 0 and traced.stdout == "True\n", traced.describe()
    assert io_events(out) == []


API_PROGRAM = """
import os, sys
import codetracer_python_recorder as r
r.configure_policy({policy})
original = sys.stdout
with r.trace({out!r}, format="json"):
    print("proxied", flush=True)
    os.write(1, b"direct\\n")
    replaced = sys.stdout is not original
print("replaced while recording:", replaced)
"""


@pytest.mark.parametrize(
    "policy, replaced, recorded",
    [
        ("", True, [("proxied\n", False)]),
        ("io_capture_fd_fallback=True", True, [("proxied\n", False), ("direct\n", True)]),
        ("io_capture_line_proxies=False", False, []),
        ("io_capture_line_proxies=False, io_capture_fd_fallback=True", False, []),
    ],
    ids=["default", "mirror", "off", "mirror-needs-proxies"],
)
def test_the_policy_set_through_the_api_decides_what_is_captured(tmp_path, policy, replaced, recorded):
    out = tmp_path / "trace"
    script = write_script(tmp_path, API_PROGRAM.format(policy=policy, out=str(out)))
    result = run([str(script)], env=plain_env())
    assert result.returncode == 0, result.describe()
    assert result.stdout == f"proxied\ndirect\nreplaced while recording: {replaced}\n"
    events = [(content_bytes(meta, text).decode(), bool(meta.get("mirror"))) for _, meta, text in io_events(out)]
    assert events == recorded


IO_FILTER_PROGRAM = """
import sys
print("to stdout")
sys.stderr.write("to stderr\\n")
print("stdout proxied:", type(sys.stdout) is not sys.stdout.__class__, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "io_table, recorded, proxied",
    [
        ("", [(WRITE, "to stdout\n"), (WRITE_OTHER, "to stderr\n"), (WRITE_OTHER, "stdout proxied: True\n")], True),
        ('[io]\ncapture = true\nstreams = ["stderr", "files"]\n',
         [(WRITE_OTHER, "to stderr\n"), (WRITE_OTHER, "stdout proxied: False\n")], False),
        ('[io]\ncapture = false\nstreams = ["stdout", "stderr"]\n', [], False),
    ],
    ids=["no-io-table", "stderr-only", "capture-false"],
)
def test_a_trace_filters_io_table_narrows_the_capture(tmp_path, io_table, recorded, proxied):
    (tmp_path / ".codetracer").mkdir()
    (tmp_path / ".codetracer" / "trace-filter.toml").write_text(
        f'[meta]\nname = "project"\nversion = 1\n\n{io_table}\n'
        '[scope]\ndefault_exec = "trace"\ndefault_value_action = "allow"\n'
    )
    traced, untraced, out = traced_and_untraced(tmp_path, IO_FILTER_PROGRAM)
    assert traced.returncode == untraced.returncode == 0, traced.describe()
    assert traced.stdout == untraced.stdout == "to stdout\n"
    assert traced.stderr == f"to stderr\nstdout proxied: {proxied}\n", traced.describe()
    assert [(kind, content_bytes(meta, text).decode()) for kind, meta, text in io_events(out)] == recorded


@pytest.mark.parametrize(
    "flags, env, named",
    [(["--io-capture", "files"], {}, "io_capture"), ([], {"CODETRACER_CAPTURE_IO": "sometimes"}, "CODETRACER_CAPTURE_IO")],
)
def test_bad_io_capture_values_are_usage_errors(tmp_path, flags, env, named):
    script = write_script(tmp_path, "print('ran')")
    result = run_cli([*flags, "--out-dir", str(tmp_path / "out"), str(script)], env=clean_env(**env))
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""
    assert "ERR_INVALID_POLICY_VALUE" in result.stderr and "proxies,fd" in result.stderr
    assert named in result.stderr


FORKING_PROGRAM = """
import os, sys
print("parent before", flush=True)
pid = os.fork()
if pid == 0:
    print("child proxied:", type(sys.stdout) is not sys.stdout.__class__, flush=True)
    os.write(1, b"child direct\\n")
    sys.exit(0)
os.waitpid(pid, 0)
print("parent after", flush=True)
"""


def io_texts(trace_dir: Path, stream: str | None = None) -> list[str]:
    """The texts of the IO events (of ``stream`` only, when given)."""
    return [
        content_bytes(meta, text).decode()
        for _, meta, text in io_events(trace_dir)
        if stream is None or meta["stream"] == stream
    ]


@pytest.mark.parametrize("mode", ["proxies", "proxies+fd"])
def test_a_fork_child_gets_its_streams_back_and_never_writes_the_parent_s_trace(tmp_path, mode):
    traced, untraced, out = traced_and_untraced(tmp_path, FORKING_PROGRAM, "--io-capture", mode)
    assert traced.returncode == untraced.returncode == 0, traced.describe()
    assert traced.stdout == untraced.stdout == "parent before\nchild proxied: False\nchild direct\nparent after\n"
    if mode == "proxies":  # with the mirror, python warns about fork() in a multi-threaded process
        assert traced.stderr == untraced.stderr, traced.describe()
    assert is_complete(out), recorder_entries(out)
    assert io_texts(out, "stdout") == ["parent before\n", "parent after\n"]


@pytest.mark.parametrize("mode", ["proxies", "proxies+fd"])
def test_a_followed_fork_child_captures_into_its_own_trace(tmp_path, mode):
    traced, untraced, out = traced_and_untraced(
        tmp_path, FORKING_PROGRAM, "--io-capture", mode, "--codetracer-follow-fork"
    )
    assert traced.returncode == untraced.returncode == 0, traced.describe()
    assert traced.stdout == "parent before\nchild proxied: True\nchild direct\nparent after\n", traced.describe()
    assert io_texts(out, "stdout") == ["parent before\n", "parent after\n"]
    (child,) = tmp_path.glob("trace.fork-*")
    assert is_complete(child), recorder_entries(child)
    expected = ["child proxied: True\n"] + (["child direct\n"] if mode == "proxies+fd" else [])
    assert io_texts(child, "stdout") == expected


TERMINATED_PROGRAM = """
import os, signal, sys
print("first", flush=True)
os.write(1, b"direct\\n")
sys.stderr.write("err line\\n")
os.kill(os.getpid(), signal.SIGTERM)
print("never")
"""


@pytest.mark.parametrize("mode", ["proxies", "proxies+fd"])
def test_sigterm_finishes_the_capture_and_the_program_s_output_survives(tmp_path, mode):
    traced, untraced, out = traced_and_untraced(tmp_path, TERMINATED_PROGRAM, "--io-capture", mode)
    assert traced.returncode == untraced.returncode == -signal.SIGTERM, traced.describe()
    assert (traced.stdout, traced.stderr) == (untraced.stdout, untraced.stderr) == ("first\ndirect\n", "err line\n")
    assert is_partial(out), recorder_entries(out)
    assert json.loads((out / "trace_partial.json").read_text())["reason"] == "ERR_TERMINATED"
    expected = ["first\n", "direct\n", "err line\n"] if mode == "proxies+fd" else ["first\n", "err line\n"]
    assert io_texts(out) == expected
