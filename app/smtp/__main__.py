"""`python -m app.smtp`: the SMTP relay alone (the same as `sgmirror smtp`)."""

import sys

from app.cli import main

sys.exit(main(["smtp", *sys.argv[1:]]))
