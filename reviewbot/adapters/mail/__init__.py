"""The mail edge: SMTP out (aiosmtplib), DKIM checks (dkimpy), a maildir of commands in."""
