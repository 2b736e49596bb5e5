"""The exception classes: names, attributes, readable text, exit codes."""

import pickle

import pytest

import codetracer_python_recorder as recorder
from codetracer_python_recorder import errors


@pytest.mark.parametrize(
    ("cls", "kind", "exit_code"),
    [
        (recorder.UsageError, "Usage", 2),
        (recorder.EnvironmentError, "Environment", 10),
        (recorder.TargetError, "Target", 20),
        (recorder.InternalError, "Internal", 70),
    ],
)
def test_each_kind_has_its_class_name_and_exit_code(cls, kind, exit_code):
    error = cls("it broke", code="ERR_IO", kind=kind, context={"path": "/t"})
    assert isinstance(error, recorder.RecorderError)
    assert cls.__name__ == f"{kind}Error"
    assert (error.code, error.kind, error.context, error.exit_code) == ("ERR_IO", kind, {"path": "/t"}, exit_code)
    assert cls("it broke").kind == kind
    assert errors.EXIT_CODES[kind] == exit_code


def test_str_is_code_message_and_context():
    error = recorder.UsageError("bad value", code="ERR_INVALID_POLICY_VALUE", kind="Usage", context={"key": "k"})
    assert str(error) == "[ERR_INVALID_POLICY_VALUE] bad value (key=k)"
    assert str(recorder.InternalError("boom", code="ERR_PANIC", kind="Internal", context={})) == "[ERR_PANIC] boom"


def test_errors_survive_pickling():
    error = recorder.TargetError("t", code="ERR_FRAME_INTROSPECTION_FAILED", kind="Target", context={"a": "1"})
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is recorder.TargetError
    assert (copy.code, copy.kind, copy.context, str(copy)) == (error.code, error.kind, error.context, str(error))


def test_errors_from_rust_are_the_package_classes():
    with pytest.raises(recorder.UsageError) as caught:
        recorder.configure_policy(no_such_key=True)
    error = caught.value
    assert type(error) is recorder.UsageError
    assert error.code == "ERR_INVALID_POLICY_VALUE"
    assert error.kind == "Usage"
    assert error.context["key"] == "no_such_key"
    assert "no_such_key" in str(error)
