"""The optional judge against a real HTTP server on 127.0.0.1 (OpenAI chat-completions shape)."""
from __future__ import annotations

import json

import pytest
from tests.eval.eval_helpers import score
from tests.http_server import JsonHandler, serve

from mmrl.eval.judge import Judge, JudgeConfig, JudgeError


class FakeJudge(JsonHandler):
    """Answers by the prompt's kind; records requests; ``fail`` first N requests with HTTP 500."""

    requests: list[dict] = []
    fail = 0

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.read_json()
        FakeJudge.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        if FakeJudge.fail > 0:
            FakeJudge.fail -= 1
            self.send_response(500)
            self.end_headers()
            return
        prompt = body["messages"][0]["content"]
        if "Judgement:" in prompt:
            reply = "1" if "[Model answer]: 5\n" in prompt else "0"
        elif prompt.rstrip().endswith("Extracted answer:"):
            reply = "5" if "hypotenuse" in prompt or "five" in prompt else "B"
        else:
            reply = "?"
        self.send_json(200, {"choices": [{"message": {"role": "assistant", "content": reply}}]})


@pytest.fixture
def judge_url():
    FakeJudge.requests, FakeJudge.fail = [], 0
    with serve(FakeJudge) as url:
        yield url


def make(url, **kw):
    return Judge(JudgeConfig(base_url=url, model="judge-1", timeout_s=5, backoff_s=0, **kw))


def test_mathvista_uses_the_judge_only_where_the_official_code_calls_gpt(samples_of, judge_url):
    judge = make(judge_url)
    s = samples_of("mathvista")["1"]
    assert score("mathvista", "<answer>B</answer>", s, judge).rule == "answer_tag"
    assert FakeJudge.requests == []
    j = score("mathvista", "The blue share looks like eight elevenths.", s, judge)
    assert (j.extracted, j.rule, j.correct) == ("B", "judge", True)
    assert j.judge == [{"prompt": "mathvista/extract@v1", "reply": "B"}]
    req = FakeJudge.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["model"] == "judge-1" and req["body"]["temperature"] == 0
    assert "Choices:\n(A) 3/11" in req["body"]["messages"][0]["content"]


def test_mathverse_judge_extracts_then_matches(samples_of, judge_url):
    judge = make(judge_url)
    j = score("mathverse", "The hypotenuse has length five units.", samples_of("mathverse")["1"], judge)
    assert (j.extracted, j.correct, j.rule) == ("5", True, "judge")
    assert [c["prompt"] for c in j.judge] == ["mathverse/extract@v1", "mathverse/match@v1"]
    assert judge.describe() == {"model": "judge-1", "base_url": judge_url, "calls": 2,
                                "prompts": ["mathverse/extract@v1", "mathverse/match@v1"]}


def test_api_key_is_sent_as_bearer_token(judge_url, monkeypatch):
    monkeypatch.setenv("MMRL_JUDGE_API_KEY", "sk-test")
    make(judge_url).complete("Extracted answer:")
    assert FakeJudge.requests[-1]["auth"] == "Bearer sk-test"


def test_server_errors_are_retried_then_reported(judge_url):
    FakeJudge.fail = 1
    assert make(judge_url, retries=1).complete("Extracted answer:") == "B"
    FakeJudge.fail = 5
    with pytest.raises(JudgeError, match=r"failed after 2 tries: HTTP 500"):
        make(judge_url, retries=1).complete("Extracted answer:")


def test_unreachable_endpoint_is_a_clear_error():
    judge = Judge(JudgeConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=2, retries=0))
    with pytest.raises(JudgeError, match="failed after 1 tries"):
        judge.complete("hello")


def test_summary_and_audit_record_the_judge(samples_of, judge_url, cli, tmp_path):
    from mmrl.io.jsonl import read_jsonl, write_jsonl

    s = samples_of("mathverse")["1"]
    rollouts = tmp_path / "r.jsonl"
    write_jsonl(rollouts, [{**s, "sample": 0, "response": "It is five.", "finish_reason": "stop",
                            "num_tokens": 4, "model": "m"}])
    result = cli("eval", "score", "mathverse", str(rollouts), "-o", str(tmp_path / "out"),
                 "--judge-url", judge_url, "--judge-model", "judge-1")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["judge"]["model"] == "judge-1" and summary["judge"]["calls"] == 2
    assert summary["accuracy"] == 1.0
    row = read_jsonl(tmp_path / "out" / "predictions.jsonl")[0]
    assert row["rule"] == "judge" and [c["prompt"] for c in row["judge"]] == ["mathverse/extract@v1",
                                                                              "mathverse/match@v1"]


def test_a_judge_is_ignored_where_the_official_scorer_has_no_gpt_step(samples_of, judge_url, cli, tmp_path):
    from mmrl.io.jsonl import write_jsonl

    s = samples_of("chartqa")["chartqa-test-0"]
    rollouts = tmp_path / "r.jsonl"
    write_jsonl(rollouts, [{**s, "sample": 0, "response": "26", "finish_reason": "stop", "num_tokens": 1,
                            "model": "m"}])
    result = cli("eval", "score", "chartqa", str(rollouts), "-o", str(tmp_path / "out"),
                 "--judge-url", judge_url, "--judge-model", "judge-1")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["judge"] is None
    assert FakeJudge.requests == []
