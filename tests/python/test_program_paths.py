"""The program's own files, names and streams, as plain python sees them:
directories named like the interpreter's, modules shadowing the standard
library, paths and arguments that are not UTF-8, a closed ``sys.stderr``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import clean_env, is_absent, is_complete, recorder_entries, run, run_cli, write_script


def trace_events(directory: Path) -> list[dict]:
    return json.loads((directory / "trace.json").read_text())


def steps_in(directory: Path, file_suffix: str) -> int:
    events = trace_events(directory)
    paths = [event["Path"] for event in events if "Path" in event]
    ids = {index for index, path in enumerate(paths) if path.endswith(file_suffix)}
    return sum(1 for event in events if "Step" in event and event["Step"]["path_id"] in ids)


def test_a_program_in_a_directory_named_importlib_is_recorded(tmp_path):
    app_dir = tmp_path / "importlib"
    app_dir.mkdir()
    script = write_script(app_dir, "def f(x):\n    return x + 1\nprint(f(1))\n", name="app.py")
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)])
    assert traced.returncode == 0, traced.describe()
    assert traced.stdout == "2\n"
    assert steps_in(out, "importlib/app.py") >= 3


def test_a_user_package_named_like_the_recorder_or_under_importlib_is_recorded(tmp_path):
    for package in ("importlib_tools/importlib", "vendor/codetracer_python_recorder"):
        (tmp_path / package).mkdir(parents=True)
    (tmp_path / "importlib_tools" / "importlib" / "helper.py").write_text("def helper():\n    return 5\n")
    (tmp_path / "vendor" / "codetracer_python_recorder" / "copy.py").write_text("def mine():\n    return 7\n")
    script = write_script(
        tmp_path,
        """
        import importlib.util, sys
        def load(name, path):
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
        a = load("helper", "importlib_tools/importlib/helper.py")
        b = load("mine", "vendor/codetracer_python_recorder/copy.py")
        print(a.helper() + b.mine())
        """,
    )
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)], cwd=tmp_path)
    assert traced.returncode == 0, traced.describe()
    assert traced.stdout == "12\n"
    assert steps_in(out, "importlib/helper.py") >= 1
    assert steps_in(out, "codetracer_python_recorder/copy.py") >= 1


SHADOW = "print('user sysconfig imported')\n{extra}\n"


@pytest.mark.parametrize("extra", ["", "raise RuntimeError('broken user module')", "raise KeyboardInterrupt"])
def test_a_sysconfig_py_next_to_the_program_is_not_run_by_the_recorder(tmp_path, extra):
    (tmp_path / "sysconfig.py").write_text(SHADOW.format(extra=extra))
    script = write_script(tmp_path, "import json\ndef f():\n    return json.dumps([1])\nprint(f())\n")
    plain = run([str(script)], cwd=tmp_path)
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)], cwd=tmp_path)
    assert plain.returncode == 0 and plain.stdout == "[1]\n", plain.describe()
    assert traced.returncode == 0, traced.describe()
    assert traced.stdout == plain.stdout
    assert is_complete(out)
    # the standard library filter is on: json's own code is not in the trace
    paths = [event["Path"] for event in trace_events(out) if "Path" in event]
    assert not any(path.endswith("json/encoder.py") for path in paths), paths


BAD = os.fsdecode(b"bad\xffname")


@pytest.mark.parametrize("policy", ["abort", "disable"])
def test_a_script_and_an_output_directory_that_are_not_utf8_work_as_under_python(tmp_path, policy):
    script = write_script(tmp_path, "import sys\ndef f(x):\n    return x\nprint(f(len(sys.argv)))\n",
                          name=BAD + ".py")
    plain = run([str(script), BAD])
    out = tmp_path / BAD
    traced = run_cli(["--format", "json", "--codetracer-on-recorder-error", policy, "--out-dir", str(out), str(script), BAD])
    assert plain.returncode == 0 and plain.stdout == "2\n", plain.describe()
    assert traced.returncode == 0, traced.describe()
    assert traced.stdout == plain.stdout
    assert "UnicodeEncodeError" not in traced.stderr
    assert is_complete(out), recorder_entries(out)
    metadata = json.loads((out / "trace_metadata.json").read_text())
    exact = metadata["recorder"]["exact_bytes"]
    assert bytes(exact["program"]) == os.fsencode(str(script))
    assert {index: bytes(value) for index, value in exact["args"].items()} == {"0": b"bad\xffname"}
    assert metadata["args"] == ["bad\ufffdname"]
    paths = json.loads((out / "trace_paths.json").read_text())
    (path_id,) = [index for index, path in enumerate(paths) if path.endswith("name.py")]
    assert bytes(exact["paths"][str(path_id)]) == os.fsencode(str(script))
    assert any("Step" in event for event in trace_events(out))


def test_metadata_args_are_the_program_s_own_arguments(tmp_path):
    script = write_script(tmp_path, "print('ok')\n")
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), "--format", "json", str(script), "--flag", "value"])
    assert traced.returncode == 0, traced.describe()
    metadata = json.loads((out / "trace_metadata.json").read_text())
    assert metadata["args"] == ["--flag", "value"]
    assert metadata["program"] == str(script)
    assert "exact_bytes" not in metadata["recorder"]


def test_exceptions_with_arguments_that_are_not_str_show_a_preview_of_them(tmp_path):
    script = write_script(
        tmp_path,
        """
        class Secret:
            def __repr__(self):
                raise AssertionError("the recorder ran user code")
        def fail(args):
            raise ValueError(*args)
        for args in [(1,), (2, "two"), (Secret(),), (b"raw", None, 1.5)]:
            try:
                fail(args)
            except ValueError:
                pass
        print("ok")
        """,
    )
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)])
    assert traced.returncode == 0, traced.describe()
    raised = [event["Event"]["content"] for event in trace_events(out)
              if "Event" in event and event["Event"]["metadata"] == "raise"]
    # each exception is raised in fail() and again in the caller it reaches
    assert list(dict.fromkeys(raised)) == [
        "ValueError: 1",
        "ValueError: (2, 'two')",
        "ValueError: <__main__.Secret object>",
        "ValueError: (b'raw', None, 1.5)",
    ]


@pytest.mark.parametrize("how", ["close", "none"])
def test_a_closed_sys_stderr_does_not_change_the_recorder_s_exit_status(tmp_path, fixtures_python, how):
    action = "sys.stderr.close()" if how == "close" else "sys.stderr = None"
    script = write_script(tmp_path, f"import sys\nprint('out', flush=True)\n{action}\n")
    out = tmp_path / "trace"
    traced = run(
        ["-m", "codetracer_python_recorder", "--format", "json", "--out-dir", str(out), str(script)],
        python=fixtures_python,
        env=clean_env(CODETRACER_FAULTFS_PLAN="fail=fsync#1:EIO", CODETRACER_JSON_ERRORS="1"),
    )
    assert traced.returncode == 10, traced.describe()
    assert traced.stdout == "out\n"
    assert "lost sys.stderr" not in traced.stderr
    assert "ERR_IO" in traced.stderr  # the recorder's message still reaches file descriptor 2
    assert is_absent(out)


@pytest.mark.parametrize("how", ["close", "none"])
def test_a_recording_never_stopped_reports_its_failure_at_exit_without_sys_stderr(tmp_path, fixtures_python, how):
    action = "sys.stderr.close()" if how == "close" else "sys.stderr = None"
    out = tmp_path / "trace"
    script = write_script(
        tmp_path,
        f"import sys\nimport codetracer_python_recorder as recorder\n"
        f"recorder.start({str(out)!r}, format='json')\nprint('out', flush=True)\n{action}\n",
    )
    traced = run(
        [str(script)],
        python=fixtures_python,
        env=clean_env(CODETRACER_FAULTFS_PLAN="fail=fsync#1:EIO", CODETRACER_JSON_ERRORS="1"),
    )
    assert traced.returncode == 0, traced.describe()  # nobody could catch it: the status stays the program's
    assert traced.stdout == "out\n"
    assert "interpreter exit failed: [ERR_IO]" in traced.stderr, traced.describe()
    assert [trailer["error_code"] for trailer in traced.trailers()] == ["ERR_IO"]
    assert is_absent(out)


def test_a_script_run_by_a_relative_name_is_one_path_in_its_api_trace(tmp_path):
    # `python app.py` from the script's directory: `<toplevel>` and the
    # script's own code are recorded under the same (absolute) path.
    write_script(
        tmp_path,
        """
        import codetracer_python_recorder as recorder
        def f(x):
            return x + 1
        with recorder.trace("out", format="json"):
            print(f(1))
        """,
        name="app.py",
    )
    traced = run(["app.py"], cwd=tmp_path)
    assert (traced.returncode, traced.stdout) == (0, "2\n"), traced.describe()
    paths = json.loads((tmp_path / "out" / "trace_paths.json").read_text())
    assert paths == [str(tmp_path / "app.py")]
