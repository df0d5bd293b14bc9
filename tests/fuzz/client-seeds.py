#!/usr/bin/env python3
"""client-seeds.py NATTERD: makes the seeds of fuzz-client from what a real
natterd sends.

Starts NATTERD (plain TCP, a temporary data dir), plays a session of alice
and bob with every request the client core makes, and writes each seed of
tests/fuzz/corpus/fuzz-client/ as the frames natterd sent alice, with each
reply's "re" replaced by the $word fuzz-client.c resolves ($login, $sync,
...), so that the seed answers the client's own requests. Run it again when
the protocol changes:

    tests/fuzz/client-seeds.py _build/plain/server/natterd
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz-client")


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")
        self.next_id = 1
        self.events = []               # frames that were not replies
        self.greeting = self.file.readline().rstrip(b"\n")

    def request(self, type_, **fields):
        """Sends a request; returns the reply line, keeping events aside."""
        rid = self.next_id
        self.next_id += 1
        frame = dict(type=type_, id=rid, **fields)
        self.sock.sendall(json.dumps(frame, separators=(",", ":")).encode() + b"\n")
        while True:
            line = self.file.readline().rstrip(b"\n")
            if not line:
                raise SystemExit(f"natterd closed the connection after {type_}")
            if json.loads(line).get("re") == rid:
                return line
            self.events.append(line)

    def take_events(self):
        events, self.events = self.events, []
        return events


def template(reply, word):
    """The reply with its "re" replaced by $word."""
    return re.sub(rb'^\{"type":"(ok|error)","re":\d+', rb'{"type":"\1","re":$' + word.encode(), reply)


def main():
    natterd = sys.argv[1]
    data = tempfile.mkdtemp(prefix="client-seeds-")
    proc = subprocess.Popen([natterd, "--listen", "127.0.0.1:0", "--data-dir", data, "--no-tls"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        while True:
            line = proc.stdout.readline().decode()
            if not line:
                raise SystemExit("natterd exited before listening")
            if line.startswith("listening "):
                port = int(line.rsplit(":", 1)[1])
                break
        seeds = play(port)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)

    os.makedirs(OUT, exist_ok=True)
    for name, lines in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
    print(f"{len(seeds)} seeds in {OUT}")


def play(port):
    bob = Conn(port)
    bob.request("register", username="bob", password="password bob", display_name="Bob")
    alice = Conn(port)
    welcome = alice.greeting
    register = alice.request("register", username="alice", password="password123", display_name="Alice")
    token = json.loads(register)["token"]
    bob.request("contact_request", username="alice")
    bob.request("room_create", room="#general", topic="Everything")
    for i in range(3):
        bob.request("send", to="@alice", body=f"hi alice {i}", client_msg_id=f"b{i}")
    bob.request("send", to="#general", body="hello room", client_msg_id="b9")
    alice.take_events()

    # What a fresh client asks after sign-in, in its order.
    a = Conn(port)
    login = a.request("login", username="alice", password="password123")
    conversations = a.request("conversations")
    sync = a.request("sync", since=0, limit=500)
    conversations2 = a.request("conversations")
    contacts = a.request("contacts")
    rooms = a.request("rooms")
    set_presence = a.request("set_presence", presence="away", status_text="lunch")
    # What fuzz-client asks once READY.
    send = a.request("send", to="@bob", body="hello bob", client_msg_id="x1")
    history = a.request("history", conversation="@bob", limit=50)
    read = a.request("read", conversation="@bob", up_to=json.loads(send)["message"]["id"])
    search = a.request("search", query="hel", limit=50)
    user_search = a.request("user_search", query="bo")
    directory = a.request("room_directory", query="")
    join = a.request("room_join", room="#general")
    members = a.request("room_members", room="#general")
    topic = a.request("room_topic", room="#general", topic="news")
    create = a.request("room_create", room="#lunch", topic="food")
    accept = a.request("contact_accept", username="bob")
    request = a.request("contact_request", username="carol")     # no such user: an error
    leave = a.request("room_leave", room="#old")                  # an error too
    own_events = a.take_events()

    # Events alice gets while bob acts.
    bob.request("send", to="@alice", body="are you there?", client_msg_id="b20")
    bob.sock.sendall(b'{"type":"typing","to":"@alice","state":"active"}\n')
    bob.request("set_presence", presence="busy", status_text="meeting")
    bob.request("room_topic", room="#general", topic="Rules: be kind")
    bob.request("read", conversation="@alice", up_to=json.loads(send)["message"]["id"])
    bob.request("room_leave", room="#general")
    a.request("ping")
    live_events = a.take_events()

    # A second page of sync for a client that knows the account ('s').
    sync5 = a.request("sync", since=5, limit=2)
    sync5b = a.request("sync", since=json.loads(sync5)["last_id"], limit=500)
    token_login = Conn(port).request("login", token=token)

    signin = [welcome, template(login, "login"), template(conversations, "conversations"),
              template(sync, "sync"), template(conversations2, "conversations"),
              template(contacts, "contacts"), template(rooms, "rooms")]
    ready_replies = [template(send, "send"), template(history, "history"), template(read, "read"),
                     template(search, "search"), template(user_search, "user_search"),
                     template(directory, "room_directory"), template(join, "room_join"),
                     template(members, "room_members"), template(topic, "room_topic"),
                     template(create, "room_create"), template(accept, "contact_accept"),
                     template(request, "contact_request"), template(leave, "room_leave"),
                     template(set_presence, "set_presence")]
    return {
        "welcome-only": [welcome],
        "signin": signin,
        "session": signin + ready_replies + own_events + live_events,
        "register": [b"#!r", welcome, template(register, "register")] + signin[2:],
        "token-resume": [b"#!t", welcome, template(token_login, "login")] + signin[2:],
        "known-account-sync-pages": [b"#!so", welcome, template(login, "login"),
                                     template(sync5, "sync"), template(sync5b, "sync"),
                                     template(conversations2, "conversations"), template(contacts, "contacts"), template(rooms, "rooms"),
                                     template(send, "send")],
        # Replies out of order, twice, and to nothing; then a reconnect.
        "disorder": signin[:2] + [template(sync, "sync"), template(conversations, "conversations"),
                                  template(sync, "last"), template(sync, "next")] + signin[4:]
                    + ready_replies[::-1] + [template(send, "last")] + live_events,
        "reconnect": signin + [template(send, "send"), b"not json"] + [welcome, template(token_login, "login"),
                                                                      template(sync5b, "sync")] + signin[4:] + live_events,
        "huge-body": signin + [e.replace(b"are you there?", b"$pad") for e in live_events
                               if e.startswith(b'{"type":"message"')],
    }


if __name__ == "__main__":
    main()
