"""docs/notifications.md keeps to the code: its table of kinds is the catalogue's, and its Python
snippet verifies the signature of a real webhook delivery received by a local HTTP server."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from exchange.notifications import webhooks
from exchange.notifications.delivery import Notifier
from exchange.notifications.domain import kinds_table
from exchange.platform.clock import ManualClock
from exchange.platform.keys import load_or_create_keys
from exchange.platform.outbox import Audience, Kind, notify
from tests import delivery_helpers
from tests.conftest import make_settings
from tests.delivery_helpers import new_org

DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
hook_server = delivery_helpers.hook_server


def test_the_table_of_kinds_is_the_catalogues():
    text = DOC.read_text()
    table = text.split("<!-- kinds:start -->\n", 1)[1].split("\n<!-- kinds:end -->", 1)[0]
    assert table == kinds_table(), (
        "docs/notifications.md's table differs from the catalogue; regenerate it with "
        "python -c 'from exchange.notifications.domain import kinds_table; print(kinds_table())'"
    )


def doc_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    [snippet] = [b for b in blocks if "def verify_techx_webhook" in b]
    return snippet


async def test_the_verification_snippet_accepts_a_real_delivery_and_refuses_tampering(
    db, backend, keys_dir, hook_server
):
    clock = ManualClock()  # the real time: the snippet refuses old timestamps
    settings = make_settings(backend, keys_dir, webhook_allow_http=True, webhook_allow_private=True)
    keys = load_or_create_keys(settings)

    async def setup(session):
        org = new_org(session, clock.now())
        await session.flush()
        hook = await webhooks.register_endpoint(
            session, keys.data, org_id=org.org.id, user_id=org.admin.id, url=hook_server.url, kinds=[], now=clock.now()
        )
        notify(session, Kind.DEAL_SETTLED, to=Audience.of_orgs(org.org.id), now=clock.now(), data={"price_fen": 1})
        return hook

    hook = await db.transaction(setup)
    await Notifier.of(settings, keys.data).run_once(db, clock)
    [call] = hook_server.wait_for(1)

    namespace: dict[str, object] = {}
    exec(compile(doc_snippet(), str(DOC), "exec"), namespace)  # the block exactly as the doc shows it
    verify = namespace["verify_techx_webhook"]
    assert verify(hook.secret, call.headers, call.body)
    assert not verify(hook.secret, call.headers, call.body.replace(b'"price_fen":1', b'"price_fen":2'))
    assert not verify("whsec_" + uuid.uuid4().hex, call.headers, call.body)
    stale = {**call.headers, "TechX-Timestamp": str(int(call.headers["TechX-Timestamp"]) - 3600)}
    assert not verify(hook.secret, stale, call.body)
