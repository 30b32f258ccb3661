#!/usr/bin/python3
"""An SMTP server for the tests: accepts mail on loopback and logs it, and can misbehave on purpose.

Each accepted message is one line in the log: its Message-ID, a tab, and the RCPT recipients separated by
commas, flushed as it is written. A message answered with 4xx or 550, or whose connection is dropped, is not
logged: the log holds exactly what the server took responsibility for.

Run with Debian's interpreter (/usr/bin/python3), which has python3-aiosmtpd.
"""

import argparse
import asyncio
import os
import random
import sys
import threading
from email.parser import BytesHeaderParser

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

TEMPORARY = [
    ("421", "421 4.3.2 Service shutting down, try again later"),
    ("451", "451 4.3.0 Local error in processing, try again later"),
    ("454", "454 4.7.0 TLS not available due to temporary reason"),
]
PERMANENT = "550 5.1.1 mailbox unknown"


class Fate:
    """What happens to one transaction, drawn when MAIL FROM arrives."""

    def __init__(self, kind="ok", phase="data", reply=""):
        self.kind = kind  # ok | temp | perm | drop
        self.phase = phase  # rcpt | data
        self.reply = reply


class Peer:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.rng = random.Random(args.seed)
        self.headers = BytesHeaderParser()

    def draw(self):
        a = self.args
        r = self.rng.random()
        phase = a.phase if a.phase != "random" else self.rng.choice(["rcpt", "data"])
        if r < a.drop:
            return Fate("drop", phase)
        r -= a.drop
        if r < a.temp_fail:
            return Fate("temp", phase, self.rng.choice(TEMPORARY)[1])
        r -= a.temp_fail
        if r < a.perm_fail:
            return Fate("perm", phase, PERMANENT)
        return Fate()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        # aiosmtpd reads commands one line at a time, so pipelined commands are handled correctly;
        # it just does not say so.
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        session.fate = self.draw()
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        fate = getattr(session, "fate", None) or Fate()
        if fate.phase == "rcpt":
            reply = await self.misbehave(server, fate)
            if reply:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        fate = getattr(session, "fate", None) or Fate()
        session.fate = None
        if fate.phase == "data":
            reply = await self.misbehave(server, fate)
            if reply:
                return reply
        headers = self.headers.parsebytes(envelope.original_content or envelope.content or b"")
        message_id = (headers.get("Message-ID") or "").strip()
        self.log.write(f"{message_id}\t{','.join(envelope.rcpt_tos)}\n")
        self.log.flush()
        return "250 2.0.0 Ok: queued as " + message_id.strip("<>")

    async def handle_RSET(self, server, session, envelope):
        session.fate = None
        return "250 OK"

    async def misbehave(self, server, fate):
        """The reply for a refused transaction, or (for a drop) never: the connection is cut."""
        if fate.kind == "ok":
            return None
        if fate.kind == "drop":
            server.transport.abort()
            # connection_lost cancels this handler; nothing is ever answered.
            await asyncio.sleep(3600)
        if fate.reply.startswith("421"):
            # 421 means the server is closing the channel: do so once the reply is written.
            asyncio.get_running_loop().call_soon(close, server)
        return fate.reply


def close(server):
    if server.transport is not None:
        server.transport.close()


def exit_at_end_of_stdin():
    # A test run that is killed never disposes its peers; its end of the pipe closes all the same.
    sys.stdin.read()
    os._exit(0)


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        # handled=False: aiosmtpd answers 535 itself when the check fails.
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True, help="file that gets one line per accepted message")
    p.add_argument("--temp-fail", type=float, default=0.0, help="fraction of messages answered 421/451/454")
    p.add_argument("--perm-fail", type=float, default=0.0, help="fraction of messages answered 550")
    p.add_argument("--drop", type=float, default=0.0, help="fraction of messages whose connection is cut")
    p.add_argument("--phase", choices=["rcpt", "data", "random"], default="random", help="when a refusal or drop happens")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--auth", help="USER:PASSWORD required before MAIL")
    p.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin closes (the process that started us is gone)")
    p.add_argument("--idle-timeout", type=float, default=300, help="seconds of silence before the server says 421 and hangs up")
    args = p.parse_args()

    if args.exit_with_stdin:
        threading.Thread(target=exit_at_end_of_stdin, daemon=True).start()

    log = open(args.log, "a", encoding="utf-8")
    peer = Peer(args, log)
    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)
        options = dict(authenticator=authenticator(user, password), auth_required=True, auth_require_tls=False)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(peer, hostname="peer.test", decode_data=False, enable_SMTPUTF8=True, timeout=args.idle_timeout, loop=loop, **options),
        host=args.host,
        port=args.port,
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
