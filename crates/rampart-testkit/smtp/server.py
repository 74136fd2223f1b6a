"""A real SMTP server (aiosmtpd) on loopback for the set-up-mail tests.

TLS is STARTTLS (required) or implicit, with the certificate and key named in
the environment; AUTH is required, over TLS only, when a user name is given.
Each message is written whole to SMTP_OUT, with its envelope recipients on a
first `X-Envelope-To:` line. Prints `ready` once it accepts connections.
"""

import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

OUT = os.environ["SMTP_OUT"]
USER = os.environ.get("SMTP_USER", "")
PASSWORD = os.environ.get("SMTP_PASSWORD", "")


class Save:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(OUT, f"{self.count:04}.eml")
        with open(path + ".partial", "wb") as file:
            file.write(("X-Envelope-To: " + ",".join(envelope.rcpt_tos) + "\r\n").encode())
            file.write(envelope.original_content or envelope.content)
        os.rename(path + ".partial", path)
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=good)


def main():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.environ["SMTP_CERT"], os.environ["SMTP_KEY"])
    options = dict(
        hostname="127.0.0.1",
        port=int(os.environ["SMTP_PORT"]),
        authenticator=authenticate,
        auth_required=bool(USER),
        auth_require_tls=True,
    )
    if os.environ["SMTP_TLS"] == "implicit":
        # Every byte is under TLS already; aiosmtpd only tracks TLS started by STARTTLS.
        options["auth_require_tls"] = False
        controller = Controller(Save(), ssl_context=context, **options)
    else:
        controller = Controller(Save(), tls_context=context, require_starttls=True, **options)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
