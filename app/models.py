"""Every area's tables, imported here so Alembic, `reset` and the app see one metadata."""

from app.accounts import models as accounts
from app.api_keys import models as api_keys
from app.clock import models as clock
from app.console import models as console
from app.delivery import models as delivery
from app.faults import models as faults
from app.identity import models as identity
from app.ips import models as ips
from app.mail import models as mail
from app.quotas import models as quotas
from app.scheduling import models as scheduling
from app.suppressions import models as suppressions
from app.templates import models as templates
from app.webhooks import models as webhooks

AREAS = (
    accounts,
    api_keys,
    clock,
    console,
    delivery,
    faults,
    identity,
    ips,
    mail,
    quotas,
    scheduling,
    suppressions,
    templates,
    webhooks,
)
