"""The inbox and preferences (``/notifications``) and organisations' webhooks
(``/orgs/{org_id}/webhooks``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from exchange.notifications import inbox, webhooks
from exchange.notifications.delivery import Notifier
from exchange.notifications.domain import CATALOGUE, SWITCHABLE, Channel, Language, wants
from exchange.notifications.models import InboxItem, WebhookEndpoint
from exchange.notifications.schemas import (
    KindPreferenceOut,
    NotificationOut,
    NotificationPage,
    PreferencesIn,
    PreferencesOut,
    ReadAllOut,
    SubjectOut,
    UnreadCountOut,
    WebhookCreatedOut,
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookIn,
    WebhookOut,
)
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import BEARER, Config, Db, Now
from exchange.platform.outbox import OutboxEvent
from kernel.pagination import Cursor, Limit
from kernel.shapes import shaped

Deliverer = NamedDependency[Notifier]


def item_out(notifier: Notifier, language: str, item: InboxItem, event: OutboxEvent) -> NotificationOut:
    text = notifier.texts.render(event.kind, language, event.data, event.subject_type, event.subject_id)
    subject = SubjectOut(event.subject_type, event.subject_id) if event.subject_type else None
    return NotificationOut(
        id=item.id,
        kind=item.kind,
        title=text.subject,
        body=text.body,
        link=text.link,
        subject=subject,
        created_at=item.created_at,
        read_at=item.read_at,
    )


def preferences_out(language: str, switches: dict[str, Any]) -> PreferencesOut:
    kinds = [
        KindPreferenceOut(
            kind=entry.kind,
            audience=entry.audience,
            mandatory=entry.mandatory,
            channels=sorted(c.value for c in entry.channels),
            inbox=wants(entry, Channel.INBOX, switches),
            email=wants(entry, Channel.EMAIL, switches),
        )
        for entry in CATALOGUE.values()
    ]
    return PreferencesOut(language=Language(language), kinds=kinds)


def switches_of(data: PreferencesIn) -> dict[str, dict[str, bool]]:
    """The channels each kind of ``data`` names, on or off (a channel not given keeps its setting);
    the API's body and the preferences page's form both come to this."""
    return {
        kind: {c.value: getattr(s, c.value) for c in SWITCHABLE if getattr(s, c.value) is not None}
        for kind, s in data.kinds.items()
    }


class NotificationController(Controller):
    path = "/notifications"
    tags = ["notifications"]
    security = BEARER

    @get("/", summary="The caller's inbox, newest first (unread=true: only the unread)")
    async def list_items(
        self,
        user: Caller,
        db: Db,
        notifier: Deliverer,
        unread: Annotated[bool, QueryParameter(description="only the items not read yet")] = False,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> NotificationPage:
        async with db.read() as session:
            language = await inbox.language_of(session, user.user_id)
            rows, next_cursor = await inbox.list_items(session, user.user_id, unread=unread, limit=limit, cursor=cursor)
        return NotificationPage([item_out(notifier, language, i, e) for i, e in rows], next_cursor)

    @get("/unread-count", summary="How many items of the caller's inbox are unread")
    async def unread_count(self, user: Caller, db: Db) -> UnreadCountOut:
        async with db.read() as session:
            return UnreadCountOut(await inbox.unread_count(session, user.user_id))

    @post("/{item_id:uuid}/read", status_code=200, summary="Mark one item of the caller's inbox read")
    async def read(
        self, item_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, notifier: Deliverer
    ) -> NotificationOut:
        async def work(session: Any) -> NotificationOut:
            item, event = await inbox.mark_read(session, user.user_id, item_id, clock.now())
            return item_out(notifier, await inbox.language_of(session, user.user_id), item, event)

        return await db.transaction(work)

    @post("/read-all", status_code=200, summary="Mark every item of the caller's inbox read")
    async def read_all(self, user: Caller, db: Db, clock: Now) -> ReadAllOut:
        return ReadAllOut(await db.transaction(lambda s: inbox.mark_all_read(s, user.user_id, clock.now())))

    @get("/preferences", summary="The caller's language and, per kind, whether it comes by inbox and email")
    async def preferences(self, user: Caller, db: Db) -> PreferencesOut:
        async with db.read() as session:
            return preferences_out(*await inbox.get_preferences(session, user.user_id))

    @put(
        "/preferences",
        summary="Change the language and switch kinds on or off per channel (mandatory kinds stay on: 422)",
    )
    async def set_preferences(self, user: Caller, db: Db, clock: Now, data: JSONBody[PreferencesIn]) -> PreferencesOut:
        switches = switches_of(data)
        language, merged = await db.transaction(
            lambda session: inbox.set_preferences(
                session,
                user.user_id,
                language=data.language.value if data.language else None,
                switches=switches,
                now=clock.now(),
            )
        )
        return preferences_out(language, merged)


def webhook_out(endpoint: WebhookEndpoint) -> WebhookOut:
    return shaped(WebhookOut, endpoint)


def _org_admin(user: Principal, org_id: uuid.UUID) -> None:
    user.require_member_of(org_id)
    user.require_admin()


class WebhookController(Controller):
    path = "/orgs/{org_id:uuid}/webhooks"
    tags = ["notifications"]
    security = BEARER

    @post("/", status_code=201, summary="Register a webhook endpoint (org admin); the signing secret is shown once")
    async def register(
        self,
        org_id: FromPath[uuid.UUID],
        user: Caller,
        db: Db,
        clock: Now,
        settings: Config,
        notifier: Deliverer,
        data: JSONBody[WebhookIn],
    ) -> WebhookCreatedOut:
        _org_admin(user, org_id)
        await webhooks.checked_addresses(
            data.url,
            allow_http=settings.webhook_allow_http,
            allow_private=settings.webhook_allow_private,
            resolver=notifier.resolver,
        )
        created = await db.transaction(
            lambda s: webhooks.register_endpoint(
                s,
                notifier.keys,
                org_id=org_id,
                user_id=user.user_id,
                url=data.url,
                kinds=list(data.kinds or []),
                now=clock.now(),
            )
        )
        return shaped(WebhookCreatedOut, created.endpoint, secret=created.secret)

    @get("/", summary="The organisation's webhook endpoints (org admin)")
    async def list_endpoints(self, org_id: FromPath[uuid.UUID], user: Caller, db: Db) -> list[WebhookOut]:
        _org_admin(user, org_id)
        async with db.read() as session:
            return [webhook_out(e) for e in await webhooks.list_endpoints(session, org_id)]

    @delete("/{webhook_id:uuid}", status_code=204, summary="Disable a webhook endpoint (org admin)")
    async def disable(
        self, org_id: FromPath[uuid.UUID], webhook_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
    ) -> None:
        _org_admin(user, org_id)
        await db.transaction(lambda s: webhooks.disable_endpoint(s, org_id, webhook_id, clock.now()))

    @get("/{webhook_id:uuid}/deliveries", summary="A webhook's deliveries, newest first: status, attempts, last error")
    async def deliveries(
        self,
        org_id: FromPath[uuid.UUID],
        webhook_id: FromPath[uuid.UUID],
        user: Caller,
        db: Db,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> WebhookDeliveryPage:
        _org_admin(user, org_id)
        async with db.read() as session:
            rows, next_cursor = await webhooks.endpoint_deliveries(
                session, org_id, webhook_id, limit=limit, cursor=cursor
            )
        return WebhookDeliveryPage([shaped(WebhookDeliveryOut, d) for d in rows], next_cursor)

    @post(
        "/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/redeliver",
        status_code=200,
        summary="Send a failed delivery again, with the same delivery id (org admin)",
    )
    async def redeliver(
        self,
        org_id: FromPath[uuid.UUID],
        webhook_id: FromPath[uuid.UUID],
        delivery_id: FromPath[uuid.UUID],
        user: Caller,
        db: Db,
        clock: Now,
    ) -> WebhookDeliveryOut:
        _org_admin(user, org_id)
        delivery = await db.transaction(lambda s: webhooks.redeliver(s, org_id, webhook_id, delivery_id, clock.now()))
        return shaped(WebhookDeliveryOut, delivery)


ROUTE_HANDLERS = [NotificationController, WebhookController]
