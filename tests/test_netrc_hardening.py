"""netrc files with malformed entries: the bad entry is skipped, the rest still works,
and nothing ever raises (so no message can show a password)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import httpcore
from httpcore._core.auth import netrc_credentials
from tests.servers import ServerThread

MIXED = """\
login floating password secret5
machine good.example login alice password wonderland
machine broken.example login bob password secret1 bogus
machine nologin.example password secret2
machine dangling.example login carol password
machine "quoted.example" login "a b" password "p\\"w d"
# machine commented.example login x password secret3
machine after-comment.example login dave password d # trailing comment
macdef init
machine inmacro.example login x password secret4

machine after-macro.example login erin password e
machine upper.EXAMPLE login frank password f
default login anon password guest
machine last.example login
"""


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("good.example", ("alice", "wonderland")),
        ("quoted.example", ("a b", 'p"w d')),
        ("after-comment.example", ("dave", "d")),
        ("after-macro.example", ("erin", "e")),
        ("upper.example", ("frank", "f")),
        ("last.example", ("anon", "guest")),  # `login` without its value
        # Skipped entries fall back to the default entry.
        ("broken.example", ("anon", "guest")),
        ("nologin.example", ("anon", "guest")),
        ("dangling.example", ("anon", "guest")),
        ("commented.example", ("anon", "guest")),
        ("inmacro.example", ("anon", "guest")),
    ],
)
def test_malformed_entries_are_skipped(tmp_path: Path, host: str, expected: object) -> None:
    path = tmp_path / "netrc"
    path.write_text(MIXED)
    assert netrc_credentials(host, str(path)) == expected


def test_entry_without_password_and_last_entry(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine a.example login only\nmachine b.example login x password y")
    assert netrc_credentials("a.example", str(path)) == ("only", "")
    assert netrc_credentials("b.example", str(path)) == ("x", "y")


def test_bytes_that_are_not_utf8_skip_only_their_entry(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_bytes(
        b"machine bad.example login \xff\xfe password x\n"
        b"machine good.example login g password \xc3\xa9t\xc3\xa9\n"
    )
    assert netrc_credentials("bad.example", str(path)) is None
    assert netrc_credentials("good.example", str(path)) == ("g", "été")


def test_unterminated_macro_and_quote(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text(
        'machine a.example login "open password x\nmacdef m\nmachine b login c password d'
    )
    assert netrc_credentials("a.example", str(path)) is None  # the quote ate the line
    assert netrc_credentials("b", str(path)) is None  # inside the macro


WORDS = st.sampled_from(
    [
        "machine",
        "default",
        "login",
        "password",
        "account",
        "macdef",
        "#",
        '"',
        "\\",
        "\n",
        "\n\n",
        " ",
        "s3cr3t-pw",
        "host.example",
        "x",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(WORDS, max_size=40), st.binary(max_size=20))
def test_any_file_parses_without_raising(
    tmp_path_factory: pytest.TempPathFactory, words: list[str], noise: bytes
) -> None:
    path = tmp_path_factory.mktemp("netrc") / "netrc"
    path.write_bytes(" ".join(words).encode() + noise)
    result = netrc_credentials("host.example", str(path))
    assert result is None or all(isinstance(part, str) for part in result)


async def test_client_uses_the_good_entries_of_a_malformed_file(
    server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "netrc"
    path.write_text(
        "machine 127.0.0.1 login user password s3cr3t bogus-token\n"
        "machine localhost login local password pw\n"
    )
    monkeypatch.setenv("NETRC", str(path))
    async with httpcore.TrioClient() as client:
        broken = await client.get(server.url + "/echo")
        assert "authorization" not in dict(json.loads(broken.text)["headers"])
        other = server.url.replace("127.0.0.1", "localhost")
        good = await client.get(other + "/echo")
        sent = dict(json.loads(good.text)["headers"])
        assert sent["authorization"] == "Basic " + base64.b64encode(b"local:pw").decode()
