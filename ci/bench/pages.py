#!/usr/bin/env python3
"""The pages cells' helper: the contract check, the GET cell's note, the POST cell's reset.

    python3 ci/bench/pages.py check SITE API ZZZ_SITE ZZZ_API
    python3 ci/bench/pages.py fixture API        # creates the note GET cells read; prints its path
    python3 ci/bench/pages.py reset API KEEP     # deletes every note but the one at path KEEP

`check` sends the same requests to a server (its site and notes API addresses, which may be
the same) and to zzz's (`examples/site.rs`, `examples/api.rs`) and fails if the answers differ:
the status, the media type, and the body, byte for byte for the home page and for a note (its
id aside), and in shape for problem details (the same members in the same order, the same
`type`, `title` and `status`; `detail` is free text). It covers what the bench sends and the
answers around it: the home page, a page of notes, creating a note (escapes and non-ASCII text
in it), reading it, 404, an id that is not a u32, the bad bodies (415, 400, 422), a full store
(409 after as many notes as zzz holds) and deleting. It deletes every note it created, so a
store is left as it was found. Prints one line per check and `N passed, N failed`; exits
non-zero if any failed. Loopback addresses only. Standard library only.
"""

import http.client
import json
import re
import sys

TIMEOUT = 10
# A note with every kind of character the serializers must agree on.
NOTE = {"title": 'Buy "milk" \\ eggs', "text": "two litres\n\tsemi-skimmed, café ☕ 😀", "done": True}
PROBLEM_KEYS = ["type", "title", "status", "detail"]
NOTE_KEYS = ["id", "title", "text", "done"]
# Bounds the fill: zzz holds 64 notes; a server that takes more than this fails the check.
FILL_MAX = 200


def split_addr(addr):
    host, _, port = addr.rpartition(":")
    if not (host.startswith("127.") or host in ("localhost", "[::1]")):
        sys.exit(f"pages.py: {addr} is not a loopback address")
    return host.strip("[]"), int(port)


class Server:
    """One keep-alive connection to an address, opened again when the server closes it."""

    def __init__(self, addr):
        self.addr = addr
        self.host, self.port = split_addr(addr)
        self.conn = None

    def request(self, method, target, body=None, headers=None):
        """Returns (status, headers as a dict with lower-case names, body bytes)."""
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            try:
                self.conn.request(method, target, body=body, headers=headers or {})
                rsp = self.conn.getresponse()
                data = rsp.read()
                hdrs = {k.lower(): v for k, v in rsp.getheaders()}
                if rsp.will_close:
                    self.conn.close()
                    self.conn = None
                return rsp.status, hdrs, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post_note(self, note, content_type="application/json"):
        body = note if isinstance(note, bytes) else json.dumps(note, ensure_ascii=False).encode()
        headers = {"Content-Type": content_type} if content_type else {}
        return self.request("POST", "/notes", body, headers)


def note_id(status, headers, body):
    """The id of a note just created, from its body; None if it was not created."""
    if status != 201:
        return None
    return json.loads(body)["id"]


class Check:
    def __init__(self, server, reference):
        self.s, self.z = server, reference
        self.passed = self.failed = 0

    def ok(self, name):
        self.passed += 1
        print(f"ok    {name}")

    def bad(self, name, why):
        self.failed += 1
        print(f"FAIL  {name}: {why}")

    def compare(self, name, got, want, body="bytes", note_id_aside=False):
        """Status, media type and body of `got` against `want` (zzz's)."""
        (gs, gh, gb), (ws, wh, wb) = got, want
        if gs != ws:
            return self.bad(name, f"status {gs}, zzz {ws}")
        gt, wt = gh.get("content-type"), wh.get("content-type")
        if gt != wt:
            return self.bad(name, f"content-type {gt!r}, zzz {wt!r}")
        if body == "bytes":
            if note_id_aside:
                gb, wb = (re.sub(rb'^\{"id":\d+,', b'{"id":N,', b) for b in (gb, wb))
            if gb != wb:
                return self.bad(name, f"body differs ({len(gb)} bytes, zzz {len(wb)}): {gb[:200]!r}")
        elif body == "problem":
            why = problem_differs(gs, gb, wb)
            if why:
                return self.bad(name, why)
        elif body == "page":
            why = page_differs(gb, wb)
            if why:
                return self.bad(name, why)
        elif body == "empty":
            if gb or wb:
                return self.bad(name, f"a body of {len(gb)} bytes, zzz {len(wb)}")
        self.ok(name)

    def both(self, method, target, body=None, headers=None):
        return (
            self.s.request(method, target, body, headers),
            self.z.request(method, target, body, headers),
        )


def problem_differs(status, got, want):
    try:
        g, w = json.loads(got), json.loads(want)
    except ValueError as e:
        return f"not JSON: {e}: {got[:200]!r}"
    if list(g) != PROBLEM_KEYS:
        return f"members {list(g)}, want {PROBLEM_KEYS}"
    for key in ("type", "title", "status"):
        if g[key] != w[key]:
            return f"{key} {g[key]!r}, zzz {w[key]!r}"
    if g["status"] != status or not isinstance(g["detail"], str):
        return f"status member {g['status']} for status {status}, or detail not a string"
    return None


def page_differs(got, want):
    try:
        g, w = json.loads(got), json.loads(want)
    except ValueError as e:
        return f"not JSON: {e}: {got[:200]!r}"
    if list(g) != list(w):
        return f"members {list(g)}, zzz {list(w)}"
    for key in ("offset", "limit"):
        if g[key] != w[key]:
            return f"{key} {g[key]}, zzz {w[key]}"
    if not isinstance(g["items"], list) or any(list(n) != NOTE_KEYS for n in g["items"]):
        return "items are not notes"
    return None


def check(site, api, zzz_site, zzz_api):
    c = Check(Server(api), Server(zzz_api))
    c.compare(
        "GET / (the home page, byte for byte)",
        Server(site).request("GET", "/"),
        Server(zzz_site).request("GET", "/"),
    )

    c.compare("GET /notes", *c.both("GET", "/notes"), body="page")
    c.compare("GET /notes?limit=0", *c.both("GET", "/notes?limit=0"), body="problem")
    c.compare("GET /notes?limit=26", *c.both("GET", "/notes?limit=26"), body="problem")

    got, want = c.s.post_note(NOTE), c.z.post_note(NOTE)
    ids = (note_id(*got), note_id(*want))
    c.compare("POST /notes (escapes, non-ASCII)", got, want, note_id_aside=True)
    if got[0] == 201:
        location = got[1].get("location")
        if location == f"/notes/{ids[0]}":
            c.ok("POST /notes: Location is /notes/{id}")
        else:
            c.bad("POST /notes: Location", f"{location!r} for id {ids[0]}")
        created = json.loads(got[2])
        if {k: created[k] for k in NOTE} == NOTE:
            c.ok("POST /notes: the note holds what was sent")
        else:
            c.bad("POST /notes: the note", f"{created!r}")
    if None not in ids:
        c.compare(
            "GET /notes/{id}",
            c.s.request("GET", f"/notes/{ids[0]}"),
            c.z.request("GET", f"/notes/{ids[1]}"),
            note_id_aside=True,
        )
        if c.s.request("GET", f"/notes/{ids[0]}")[2] == got[2]:
            c.ok("GET /notes/{id} is the body POST answered")
        else:
            c.bad("GET /notes/{id}", "differs from the body POST answered")
        c.compare("GET /notes?limit=1", *c.both("GET", "/notes?limit=1"), body="page")
    c.compare("GET /notes/4000000000 (none)", *c.both("GET", "/notes/4000000000"), body="problem")
    c.compare("GET /notes/abc (not a u32)", *c.both("GET", "/notes/abc"), body="problem")

    bad_bodies = [
        ("POST /notes without Content-Type", NOTE, None),
        ("POST /notes as text/plain", NOTE, "text/plain"),
        ("POST /notes, truncated JSON", b'{"title":', "application/json"),
        ("POST /notes, not JSON", b"title=milk", "application/json"),
        ("POST /notes, empty title", {"title": ""}, "application/json"),
        ("POST /notes, title of 81 characters", {"title": "é" * 81}, "application/json"),
        ("POST /notes, text of 501 characters", {"title": "t", "text": "x" * 501}, "application/json"),
        ("POST /notes, no title", {"text": "x"}, "application/json"),
        ("POST /notes, an unknown member", {"title": "t", "colour": "red"}, "application/json"),
        ("POST /notes, done is a string", {"title": "t", "done": "yes"}, "application/json"),
    ]
    for name, body, content_type in bad_bodies:
        c.compare(name, c.s.post_note(body, content_type), c.z.post_note(body, content_type), body="problem")
    charset = [
        server.post_note({"title": "charset"}, "application/json; charset=utf-8")
        for server in (c.s, c.z)
    ]
    c.compare("POST /notes, Content-Type application/json; charset=utf-8", *charset, note_id_aside=True)
    # Every note created here is deleted at the end.
    created = [[i for i in (first, note_id(*answer)) if i is not None] for first, answer in zip(ids, charset)]

    # Fill both stores: the same number of notes fits, then the same 409.
    fills = []
    for mine, server in zip(created, (c.s, c.z)):
        answer = None
        for _ in range(FILL_MAX):
            answer = server.post_note({"title": "fill"})
            if answer[0] != 201:
                break
            mine.append(note_id(*answer))
        fills.append((list_total(server), answer))
    if fills[0][0] == fills[1][0]:
        c.ok(f"a full store holds {fills[1][0]} notes, as zzz's")
    else:
        c.bad("a full store", f"holds {fills[0][0]} notes, zzz {fills[1][0]}")
    c.compare("POST /notes to a full store", fills[0][1], fills[1][1], body="problem")

    deletes = [[server.request("DELETE", f"/notes/{i}") for i in mine] for mine, server in zip(created, (c.s, c.z))]
    if deletes[0] and deletes[1]:
        c.compare("DELETE /notes/{id}", deletes[0][0], deletes[1][0], body="empty")
    if all(d[0] == 204 for d in deletes[0]):
        c.ok(f"DELETE of the {len(deletes[0])} notes created here: 204")
    else:
        c.bad("DELETE", f"statuses {sorted({d[0] for d in deletes[0]})}")
    if created[0] and created[1]:
        c.compare(
            "DELETE /notes/{id} again",
            c.s.request("DELETE", f"/notes/{created[0][0]}"),
            c.z.request("DELETE", f"/notes/{created[1][0]}"),
            body="problem",
        )
    print(f"{c.passed} passed, {c.failed} failed")
    return c.failed == 0


def list_ids(server):
    """Every note's id, paging through GET /notes (bounded by the store's size)."""
    ids, offset = [], 0
    for _ in range(1000):
        status, _, body = server.request("GET", f"/notes?limit=25&offset={offset}")
        if status != 200:
            raise SystemExit(f"pages.py: GET /notes at {server.addr}: status {status}")
        page = json.loads(body)
        ids.extend(n["id"] for n in page["items"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return ids
    raise SystemExit(f"pages.py: GET /notes at {server.addr} never ends")


def list_total(server):
    status, _, body = server.request("GET", "/notes?limit=1")
    return json.loads(body)["total"] if status == 200 else None


def fixture(api):
    """Creates the note that the GET cells read and prints its path."""
    server = Server(api)
    answer = server.post_note({"title": "The bench's note", "text": "Read by wrk, again and again.", "done": False})
    if answer[0] != 201:
        raise SystemExit(f"pages.py: POST /notes at {api}: status {answer[0]}: {answer[2][:200]!r}")
    print(f"/notes/{note_id(*answer)}")


def reset(api, keep):
    """Deletes every note but the one at `keep` (what a POST cell's run left behind)."""
    server = Server(api)
    kept = int(keep.rsplit("/", 1)[1])
    gone = 0
    for i in list_ids(server):
        if i != kept:
            status = server.request("DELETE", f"/notes/{i}")[0]
            if status != 204:
                raise SystemExit(f"pages.py: DELETE /notes/{i} at {api}: status {status}")
            gone += 1
    print(gone)


def main():
    args = sys.argv[1:]
    if len(args) == 5 and args[0] == "check":
        sys.exit(0 if check(*args[1:]) else 1)
    if len(args) == 2 and args[0] == "fixture":
        return fixture(args[1])
    if len(args) == 3 and args[0] == "reset":
        return reset(args[1], args[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
