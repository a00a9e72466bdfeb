"""The server's side of the phone's outbox (static/eldercare/outbox.js).

A form the outbox sends carries the header `X-Outbox: 1` and its one-time key. The view then
answers in JSON instead of a page, so the phone learns in a few hundred bytes what happened:

- 200 {"ok": true, "created": …, "message": …, "url": …} — stored now, or stored before under the
  same key (`created` false): the item leaves the outbox either way; with "todo" (what is still
  to do, e.g. a visit marked 上报乡镇 whose report is not written yet, at "url") it stays on the
  list as 已保存 with a link there until the worker has gone or dismissed it;
- 422 {"ok": false, "reason": …} — refused (the elder moved away meanwhile, a time in the
  future …): the item goes back to the worker with the reason, in Chinese;
- anything else (a login redirect, the CSRF failure page with its `X-CSRF-Failure` header, a
  500, no answer) is not an answer about the item: the outbox keeps it and acts on the cause.
"""

from django.http import JsonResponse

OUTBOX_HEADER = "X-Outbox"


def from_outbox(request) -> bool:
    return request.headers.get(OUTBOX_HEADER) == "1"


def saved(*, message: str, url: str, created: bool, todo: str = "") -> JsonResponse:
    answer = {"ok": True, "created": created, "message": str(message), "url": url}
    if todo:
        answer["todo"] = str(todo)
    return JsonResponse(answer)


def refused(form) -> JsonResponse:
    """The form's errors as one Chinese sentence per problem, the field's label first."""
    reasons = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        for error in errors:
            reasons.append(f"{field.label}：{error}" if field is not None and field.label else str(error))
    return refused_because(" ".join(reasons))


def refused_because(reason: str) -> JsonResponse:
    return JsonResponse({"ok": False, "reason": str(reason)}, status=422)
