"""Schemathesis hooks for the reference server's contract check.

An `Idempotency-Key` promises "same key, same request": two different generated orders that
happen to draw the same short key (hypothesis favours "0") are rightly refused with 422. A valid
generated key is therefore made unique per request; an invalid one is left as generated, so that
negative tests still send it.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"[\x21-\x7e]{1,200}")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            value = headers[name]
            if isinstance(value, str) and VALID_KEY.fullmatch(value):
                headers[name] = f"{value}-{uuid.uuid4().hex}"
