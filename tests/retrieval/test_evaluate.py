from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import QabotError
from retrieval.evaluate import EvalQuestion, read_questions


def test_reads_records(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"question": "Who?", "answers": ["Ann"], "title_contains": "Doc"}\n\n'
        '{"question": "Off topic?", "answers": []}\n',
        encoding="utf-8",
    )
    assert read_questions(path) == [
        EvalQuestion("Who?", ("Ann",), "Doc"),
        EvalQuestion("Off topic?", (), None),
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"question": "Q", "answers": "Baku"}', "list of strings"),
        ('{"question": "Q", "answers": [1]}', "list of strings"),
        ('{"answers": []}', '"question" must be a string'),
        ('{"question": "Q", "answers": [], "title_contains": 3}', "string or null"),
        ("[1, 2]", "not a JSON object"),
        ("not json", "not a JSON object"),
    ],
)
def test_malformed_records_are_reported_with_their_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "fine", "answers": []}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(QabotError, match=problem) as raised:
        read_questions(path)
    assert f"{path}:2" in str(raised.value)
