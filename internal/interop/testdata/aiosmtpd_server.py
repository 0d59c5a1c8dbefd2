"""aiosmtpd for smtpx's interop tests (internal/interop).

Listens on 127.0.0.1, on a port the system picks and prints on the first
line of standard output; offers AUTH LOGIN only (aiosmtpd prompts "User
Name\0" and "Password\0") and requires it, with the one account given in
$AIOSMTPD_USER and $AIOSMTPD_PASSWORD; stores each message as received
(dot-unstuffed, CRLF kept) as DIR/NNNN.eml.

Usage: python3 aiosmtpd_server.py DIR
"""

import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.directory, "%04d.eml" % self.count)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 OK: queued as aio%d" % self.count


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user and auth_data.password == password)
        return AuthResult(success=ok, handled=False)
    return check


async def main(directory):
    loop = asyncio.get_running_loop()
    handler = Store(directory)
    check = authenticator(os.environb[b"AIOSMTPD_USER"], os.environb[b"AIOSMTPD_PASSWORD"])

    def factory():
        return SMTP(handler, hostname="aiosmtpd.test", enable_SMTPUTF8=True,
                    decode_data=False, auth_required=True, auth_require_tls=False,
                    auth_exclude_mechanism=["PLAIN"], authenticator=check, loop=loop)

    server = await loop.create_server(factory, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
