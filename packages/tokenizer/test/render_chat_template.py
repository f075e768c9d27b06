"""Renders chat prompts with Python's Jinja2 the way Hugging Face's apply_chat_template does.

Reads a JSON list of cases from stdin and writes a JSON list of {"text": str} or {"error": str}. A case:
  tokenizer_config: path of the checkpoint's tokenizer_config.json (its special tokens, its chat_template);
                    absent for a checkpoint without one (the byte-level model: no special tokens)
  template_path:    optional path of a chat template file that replaces the config's chat_template
  messages, tools, documents, add_generation_prompt, kwargs: apply_chat_template's arguments
  now_ms:           the time strftime_now formats (milliseconds since the epoch, local time)
The environment follows transformers' _compile_jinja_template: ImmutableSandboxedEnvironment with
trim_blocks and lstrip_blocks, the loopcontrols extension, a tojson filter that keeps non-ASCII text
(ensure_ascii=False), and the globals raise_exception and strftime_now. The variables follow
apply_chat_template: the special tokens map (bos_token, ... additional_special_tokens as strings) and the
caller's kwargs, then messages, tools, documents and add_generation_prompt.
"""

import json
import sys
from datetime import datetime

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

SPECIAL_TOKEN_FIELDS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]


def token_text(value):
    return value["content"] if isinstance(value, dict) else value


def special_tokens_map(config):
    result = {}
    for field in SPECIAL_TOKEN_FIELDS:
        if config.get(field) is not None:
            result[field] = token_text(config[field])
    if config.get("additional_special_tokens") is not None:
        result["additional_special_tokens"] = [token_text(v) for v in config["additional_special_tokens"]]
    return result


def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise TemplateError(message)


def render(case):
    config = {}
    if case.get("tokenizer_config"):
        with open(case["tokenizer_config"], encoding="utf-8") as file:
            config = json.load(file)
    if case.get("template_path"):
        with open(case["template_path"], encoding="utf-8") as file:
            template = file.read()
    else:
        template = config["chat_template"]
    now = datetime.fromtimestamp(case["now_ms"] / 1000)
    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    environment.filters["tojson"] = tojson
    environment.globals["raise_exception"] = raise_exception
    environment.globals["strftime_now"] = lambda fmt: now.strftime(fmt)
    variables = {**special_tokens_map(config), **case.get("kwargs", {})}
    try:
        text = environment.from_string(template).render(
            messages=case["messages"],
            tools=case.get("tools"),
            documents=case.get("documents"),
            add_generation_prompt=case["add_generation_prompt"],
            **variables,
        )
        return {"text": text}
    except Exception as error:  # the test compares refusals too: both sides must refuse
        return {"error": f"{type(error).__name__}: {error}"}


if __name__ == "__main__":
    cases = json.load(sys.stdin)
    json.dump([render(case) for case in cases], sys.stdout, ensure_ascii=False)
