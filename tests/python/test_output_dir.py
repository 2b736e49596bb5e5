"""The output directory is resolved once, when recording starts: a program
that changes its working directory neither loses its trace nor has the
recorder remove anything of its own; empty policy variables are unset."""

import json

from conftest import clean_env, is_complete, run, run_cli, write_script


def tree(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_the_default_relative_trace_out_survives_a_chdir(tmp_path):
    script = write_script(tmp_path, "import os\nos.chdir('/')\nprint('ok')\n")
    plain = run([str(script)], cwd=tmp_path)
    traced = run_cli([str(script)], cwd=tmp_path)
    assert traced.returncode == plain.returncode == 0, traced.describe()
    assert traced.stdout == plain.stdout == "ok\n"
    assert is_complete(tmp_path / "trace-out"), tree(tmp_path)


def test_a_same_named_tree_in_the_new_working_directory_is_never_removed(tmp_path):
    # The program's own, empty x/y/z in the directory it moves into.
    (tmp_path / "elsewhere" / "x" / "y" / "z").mkdir(parents=True)
    script = write_script(
        tmp_path,
        """
        import os
        os.chdir("elsewhere")
        for i in range(3):
            print(i)
        """,
    )
    traced = run_cli(["--out-dir", "x/y/z", str(script)], cwd=tmp_path)
    assert traced.returncode == 0, traced.describe()
    assert is_complete(tmp_path / "x" / "y" / "z")
    assert tree(tmp_path / "elsewhere") == ["x", "x/y", "x/y/z"], "the program's tree is intact"


def test_a_failure_after_a_chdir_removes_only_what_the_recorder_created(tmp_path, fixtures_python):
    (tmp_path / "elsewhere" / "x" / "y" / "z").mkdir(parents=True)
    script = write_script(
        tmp_path,
        """
        import os
        os.chdir("elsewhere")
        print("moved")
        """,
    )
    env = clean_env(CODETRACER_FAULTFS_PLAN="deny=rename:**/trace_metadata.json")
    traced = run_cli(["--out-dir", "x/y/z", str(script)], python=fixtures_python, env=env, cwd=tmp_path)
    assert traced.returncode == 10, traced.describe()
    assert "ERR_PERMISSION_DENIED" in traced.stderr
    assert not (tmp_path / "x").exists(), "the directories it created are gone again"
    assert tree(tmp_path / "elsewhere") == ["x", "x/y", "x/y/z"], "the program's tree is intact"


def test_start_with_a_relative_path_then_chdir(tmp_path):
    script = write_script(
        tmp_path,
        """
        import os
        import codetracer_python_recorder as recorder
        recorder.start("rel")
        os.makedirs("sub", exist_ok=True)
        os.chdir("sub")
        def work():
            return 42
        print(work())
        recorder.stop()
        print(sorted(os.listdir(".")))
        """,
    )
    result = run([str(script)], cwd=tmp_path)
    assert result.returncode == 0, result.describe()
    assert result.stdout == "42\n[]\n", "nothing was written into the new working directory"
    assert is_complete(tmp_path / "rel")
    metadata = json.loads((tmp_path / "rel" / "trace_metadata.json").read_text())
    assert metadata["workdir"] == str(tmp_path), "the working directory at start"


def test_empty_policy_variables_are_unset(tmp_path):
    script = write_script(tmp_path, "print('hi')\n")
    for variable in (
        "CODETRACER_REQUIRE_TRACE",
        "CODETRACER_LOG_FILE",
        "CODETRACER_ON_RECORDER_ERROR",
        "CODETRACER_LOG_LEVEL",
        "CODETRACER_JSON_ERRORS",
        "CODETRACER_KEEP_PARTIAL_TRACE",
    ):
        out = tmp_path / variable
        traced = run_cli(["--out-dir", str(out), str(script)], env=clean_env(**{variable: ""}))
        assert traced.returncode == 0, f"{variable}=: {traced.describe()}"
        assert traced.stdout == "hi\n"
        assert is_complete(out), variable
