# -*- coding: utf-8 -*-
# Copyright (c) idpbridge maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""awx/survey.json, the survey of the job template that runs playbooks/cloudflare_access.yml: a valid AWX
survey whose every answer is a variable of the cloudflare_access role, of a type the role accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ansible.module_utils.parsing.convert_bool import boolean

REPO = Path(__file__).resolve().parents[2]
SURVEY = json.loads((REPO / "awx" / "survey.json").read_text(encoding="utf-8"))
OPTIONS = yaml.safe_load((REPO / "roles" / "cloudflare_access" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))[
    "argument_specs"]["main"]["options"]
QUESTIONS = SURVEY["spec"]

QUESTION_KEYS = {"question_name", "question_description", "required", "type", "variable", "min", "max", "default", "choices",
                 "new_question"}
TEXT_TYPES = {"text", "textarea", "password"}
# survey type -> role option types it can feed (AWX passes text and choices as strings, multiselect as a list)
COMPATIBLE = {
    "text": {"str"},
    "textarea": {"str"},
    "password": {"str"},
    "multiplechoice": {"str", "bool"},
    "multiselect": {"list"},
    "integer": {"int"},
    "float": {"float"},
}
# Connection settings belong to the credentials (awx/credential_types), never to a survey.
FROM_CREDENTIALS = {
    "cloudflare_access_authentik_url", "cloudflare_access_authentik_token", "cloudflare_access_authentik_validate_certs",
    "cloudflare_access_cloudflare_api_token", "cloudflare_access_cloudflare_account_id", "cloudflare_access_cloudflare_api_url",
}


def choices_of(question):
    raw = question.get("choices", "")
    items = raw.splitlines() if isinstance(raw, str) else list(raw)
    return [c for c in items if c.strip()]


def typed_default(question, option):
    """The survey default as the value the role sees (AWX's answer converted the way the role's
    argument validation converts it)."""
    value = question.get("default")
    if question["type"] == "multiselect":
        return [c for c in (value.splitlines() if isinstance(value, str) else value or []) if c.strip()]
    if option.get("type") == "bool":
        return boolean(value, strict=True)
    return value


def ids(question):
    return question["variable"]


def test_survey_shape():
    assert set(SURVEY) == {"name", "description", "spec"}
    assert SURVEY["name"] and SURVEY["description"]
    assert QUESTIONS, "the survey has no questions"
    variables = [q["variable"] for q in QUESTIONS]
    assert len(variables) == len(set(variables)), "a variable is asked twice"
    names = [q["question_name"] for q in QUESTIONS]
    assert len(names) == len(set(names))
    assert QUESTIONS[0]["variable"] == "cloudflare_access_name", "the name comes first"


@pytest.mark.parametrize("question", QUESTIONS, ids=ids)
def test_question_is_valid_for_awx(question):
    assert set(question) <= QUESTION_KEYS, set(question) - QUESTION_KEYS
    for key in ("question_name", "required", "type", "variable", "default"):
        assert key in question, key
    assert question["type"] in COMPATIBLE
    assert isinstance(question["required"], bool)
    assert question.get("question_description", "").strip(), "undocumented question"
    default = question["default"]
    if question["type"] in TEXT_TYPES:
        assert isinstance(question["min"], int) and isinstance(question["max"], int)
        assert isinstance(default, str)
        assert question["min"] <= len(default) <= question["max"], "AWX drops a default outside min..max"
    if question["type"] in ("multiplechoice", "multiselect"):
        choices = choices_of(question)
        assert choices and len(choices) == len(set(choices))
        wanted = default.splitlines() if isinstance(default, str) else default
        assert set(c for c in wanted if c) <= set(choices), "default %r is not a choice" % default
    if question["required"]:
        assert default not in ("", None, []), "a required question needs a default so that a launch without answers works"


@pytest.mark.parametrize("question", QUESTIONS, ids=ids)
def test_variable_is_a_role_option_of_a_compatible_type(question):
    variable = question["variable"]
    assert variable in OPTIONS, "%s is not a variable of the cloudflare_access role" % variable
    assert variable not in FROM_CREDENTIALS, "%s comes from a credential, not from the survey" % variable
    option = OPTIONS[variable]
    kind = option.get("type", "str")
    assert kind in COMPATIBLE[question["type"]], "survey type %s cannot feed a %s" % (question["type"], kind)
    if kind == "list":
        assert option.get("elements") == "str"
    if question["type"] == "multiplechoice":
        choices = choices_of(question)
        if kind == "bool":
            assert sorted(choices) == ["false", "true"]
        else:
            assert "choices" in option and sorted(choices) == sorted(option["choices"]), "the survey offers %s, the role %s" % (
                choices, option.get("choices"))
    if option.get("choices") and question["type"] in TEXT_TYPES:
        pytest.fail("%s has fixed choices; ask it as multiplechoice" % variable)


@pytest.mark.parametrize("question", QUESTIONS, ids=ids)
def test_secrets_are_passwords_and_passwords_are_secrets(question):
    option = OPTIONS[question["variable"]]
    assert (question["type"] == "password") == bool(option.get("no_log")), question["variable"]


@pytest.mark.parametrize("question", QUESTIONS, ids=ids)
def test_default_is_the_role_default(question):
    """Launching with every default changes nothing compared to running the role without variables."""
    option = OPTIONS[question["variable"]]
    assert "default" in option, "%s has a computed default in the role; an empty answer would replace it" % question["variable"]
    assert typed_default(question, option) == option["default"], question["variable"]


@pytest.mark.parametrize("question", [q for q in QUESTIONS if not q["required"] and q["type"] in TEXT_TYPES], ids=ids)
def test_an_empty_optional_answer_means_the_role_default(question):
    """AWX passes an optional text question left empty as ''. The role must read '' as its default:
    either the default is '' itself or the question's own default (pre-filled) is the role's."""
    option = OPTIONS[question["variable"]]
    assert option.get("default") == "" or question["default"] == option.get("default"), question["variable"]
