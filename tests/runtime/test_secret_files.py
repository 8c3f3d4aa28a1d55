"""Secrets mounted as folders (runtime/secret_files.py): every file of every
folder FLOWC_SECRET_DIRS names becomes a variable before the step runs, as
Kubernetes' envFrom would load the secret."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flowc.runtime.secret_files import SecretFolderError, load


def secret(folder, **keys):
    folder.mkdir(parents=True)
    for key, value in keys.items():
        (folder / key).write_text(value)
    return str(folder)


def test_every_key_becomes_a_variable_the_later_folder_winning_the_container_env_kept(tmp_path):
    a = secret(tmp_path / "a", USER="alice", TOKEN="one", KEPT="from-secret")
    b = secret(tmp_path / "b", TOKEN="two", MULTI="line 1\nline 2\n")
    (tmp_path / "b" / "..data").mkdir()  # Kubernetes' own entries in a secret volume
    (tmp_path / "b" / "..2024_01_01").write_text("not a key")
    env = {"FLOWC_SECRET_DIRS": os.pathsep.join([a, b]), "KEPT": "from-env"}
    added = load(env)
    assert sorted(added) == ["MULTI", "TOKEN", "USER"]
    assert env["USER"] == "alice" and env["TOKEN"] == "two" and env["MULTI"] == "line 1\nline 2\n"
    assert env["KEPT"] == "from-env"


def test_nothing_happens_without_the_variable():
    env = {"PATH": "/bin"}
    assert load(env) == [] and env == {"PATH": "/bin"}


def test_a_folder_that_is_not_there_is_an_error(tmp_path):
    with pytest.raises(SecretFolderError, match="is not there"):
        load({"FLOWC_SECRET_DIRS": str(tmp_path / "missing")})


def test_the_task_command_refuses_a_missing_folder_before_running_anything(tmp_path):
    env = {**os.environ, "FLOWC_SECRET_DIRS": str(tmp_path / "missing")}
    done = subprocess.run([sys.executable, "-m", "flowc.runtime", "step", "--flow", "f.py", "--ir", "f.json",
                           "--step", "start", "--run-id", "r", "--index", "0", "--datastore", str(tmp_path)],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "secret folder" in done.stderr and "Traceback" not in done.stderr


def test_json_secrets_expand_as_metaflow_reads_aws_secrets_manager():
    from metaflow.plugins.aws.secrets_manager.aws_secrets_manager_secrets_provider import _sanitize_key_as_env_var

    from flowc.runtime.secret_files import load_json

    env = {"FLOWC_SECRET_JSON": "DB:API", "DB": '{"db-user": "alice", "port": 5432, "a.b/c": "x"}',
           "API": '{"API_TOKEN": "t", "port": "kept-first"}', "A_B_C": "mine"}
    added = load_json(env)
    assert _sanitize_key_as_env_var("db-user") == "db_user" and env["db_user"] == "alice"
    assert _sanitize_key_as_env_var("a.b/c") == "A_B_C".lower()
    assert env["port"] == "5432"  # Metaflow: str(v); the first secret's value stays (an existing variable wins)
    assert env["a_b_c"] == "x" and env["A_B_C"] == "mine" and env["API_TOKEN"] == "t"
    assert "DB" not in env and "API" not in env and sorted(added) == ["API_TOKEN", "a_b_c", "db_user", "port"]


def test_a_json_secret_that_is_not_an_object_is_refused():
    from flowc.runtime.secret_files import SecretFolderError, load_json

    with pytest.raises(SecretFolderError, match="not a JSON object"):
        load_json({"FLOWC_SECRET_JSON": "S", "S": "plain text"})
    with pytest.raises(SecretFolderError, match="is not set"):
        load_json({"FLOWC_SECRET_JSON": "MISSING"})
