"""The e-mail connector: one message over SMTP (STARTTLS when asked, AUTH when a username is
set), in plain text and HTML. Runs in a thread: smtplib blocks."""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from casekeeper.domain.notifications import Envelope, Outcome, Retry


def message(env: Envelope) -> EmailMessage:
    v, opts = env.view, env.connector.email
    assert opts is not None
    msg = EmailMessage()
    msg["Subject"] = v.title
    msg["From"] = opts.sender
    msg["To"] = ", ".join(opts.recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{env.delivery_id}@casekeeper>"
    msg["X-Casekeeper-Delivery"] = env.delivery_id
    msg["X-Casekeeper-Event"] = v.trigger.value
    c = v.case
    facts = [("Status", c.status), ("Priority", c.priority), ("Category", c.category),
             ("Assignee", ", ".join(c.assignees) or "nobody")]  # fmt: skip
    plain = "\n".join([v.text, "", *(f"{k}: {val}" for k, val in facts), "", c.link, ""])
    rows = "".join(f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(val)}</td></tr>"
                   for k, val in facts)  # fmt: skip
    text_html = html.escape(v.text).replace("\n", "<br>")
    page = (f"<html><body><p>{text_html}</p><table>{rows}</table>"
            f"<p><a href=\"{html.escape(c.link)}\">Open case</a></p></body></html>")  # fmt: skip
    msg.set_content(plain)
    msg.add_alternative(page, subtype="html")
    return msg


def send_email(env: Envelope, timeout: float, context: ssl.SSLContext | None) -> Outcome:
    opts = env.connector.email
    if opts is None:
        return Outcome(ok=False, error="the connector has no e-mail settings", retry=Retry.NO)
    server = f"{opts.smtp_host}:{opts.smtp_port}"
    try:
        with smtplib.SMTP(opts.smtp_host, opts.smtp_port, timeout=timeout) as smtp:
            if opts.starttls:
                smtp.starttls(context=context or ssl.create_default_context())
            if opts.username:
                smtp.login(opts.username, env.secret or "")
            refused = smtp.send_message(message(env))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return _reply(min(codes) if codes else 550, f"{server} refused every recipient")
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)  # fmt: skip
        return _reply(exc.smtp_code, f"SMTP {exc.smtp_code} from {server}: {text[:200]}")
    except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS or AUTH: its configuration
        return Outcome(ok=False, error=f"SMTP {server}: {exc}", retry=Retry.NO)
    except OSError as exc:  # smtplib's errors are OSErrors; it wraps a read that timed out
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            error = f"timed out after {timeout:g}s talking to {server}"
        else:
            error = f"SMTP {server}: {(exc.strerror or str(exc) or type(exc).__name__)[:200]}"
        return Outcome(ok=False, error=error, retry=Retry.BACKOFF)
    if refused:  # some recipients took it: delivered, and the others named for the ledger
        names = ", ".join(sorted(refused))
        return Outcome(ok=True, status_code=250, error=f"{server} refused {names}")
    return Outcome(ok=True, status_code=250)


def _reply(code: int, text: str) -> Outcome:
    """SMTP 4xx is worth another try; 5xx is not."""
    retry = Retry.BACKOFF if 400 <= code < 500 else Retry.NO
    return Outcome(ok=False, error=text, retry=retry, status_code=code)
