#!/usr/bin/python3
"""lab-smtpd.py HOST PORT CERT KEY: the lab's SMTP server (scenario starttls-strip).

aiosmtpd (Debian python3-aiosmtpd) with STARTTLS (CERT, KEY) and AUTH PLAIN/LOGIN
offered before TLS as well, as Postfix does with smtpd_tls_auth_only=no: `python3 -m
aiosmtpd` cannot set auth_require_tls, so this is its SMTP class with two options.
Accepts any mail (discarded) and the lab's user alice/lab-secret. Ends on SIGTERM.
"""
import asyncio
import signal
import ssl
import sys

from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

LAB_USER = b"alice"
LAB_PASSWORD = b"lab-secret"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == LAB_USER
          and auth_data.password == LAB_PASSWORD)
    return AuthResult(success=ok)


def main():
    host, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    srv = loop.run_until_complete(loop.create_server(
        lambda: SMTP(Sink(), hostname="mail.lab.example", tls_context=tls,
                     require_starttls=False, auth_require_tls=False,
                     authenticator=authenticator),
        host=host, port=port))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    print("lab-smtpd: listening on %s:%d" % (host, port), flush=True)
    try:
        loop.run_forever()
    finally:
        srv.close()
        loop.run_until_complete(srv.wait_closed())
        loop.close()


if __name__ == "__main__":
    main()
