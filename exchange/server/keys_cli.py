"""``techx keys init | rotate --kind K | reencrypt``: the exchange's key rings (docs/operations.md, Keys).

A server process reads the keys directory when it starts: after ``rotate``, restart the servers.
``reencrypt`` moves confidential details to the current data key in short transactions, safe to
run while servers run and to run again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from exchange.platform.settings import Settings

RESTART = {
    "signing": "new notices, certificates and checkpoints are signed with it once the servers restart; "
    "what the previous key signed keeps verifying",
    "jwt": "new tokens name it once the servers restart; tokens issued before work until they expire",
    "data": "new confidential details are sealed with it once the servers restart; then run techx keys reencrypt",
}


def cmd_keys_init(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.platform.clock import SystemClock
    from exchange.platform.keys import init_keys

    for kind, (key_id, created) in init_keys(settings.keys_dir, SystemClock().now()).items():
        print(f"{kind}: {'created key' if created else 'has key'} {key_id}")
    print(f"keys in {settings.keys_dir}: back this directory up (docs/operations.md, Keys)")
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.platform.clock import SystemClock
    from exchange.platform.keys import rotate_key

    key_id, previous = rotate_key(settings.keys_dir, args.kind, SystemClock().now())
    print(f"{args.kind}: new current key {key_id}, previous key {previous} retired and kept")
    print(f"restart the servers: {RESTART[args.kind]}")
    return 0


def cmd_keys_reencrypt(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import func, select

    from exchange.platform.keys import load_or_create_keys
    from exchange.platform.migrate import migrated_database
    from exchange.server.modules import build_modules
    from listings import Listing, reseal_confidential_details

    keys = load_or_create_keys(settings)
    listings = build_modules(settings, keys, events=None).listings

    async def run() -> tuple[int, int]:
        async with migrated_database(settings, pool_size=1) as db:
            async with db.read() as session:
                total = await session.scalar(
                    select(func.count()).select_from(Listing).where(Listing.confidential_ciphertext.is_not(None))
                )
            looked, moved, after = 0, 0, None
            while True:
                batch, resealed, after = await db.transaction(
                    lambda s, after=after: reseal_confidential_details(s, listings, after=after, limit=args.batch_size)
                )
                looked, moved = looked + batch, moved + resealed
                print(f"\rlooked at {looked:,} of {total or 0:,} confidential details", end="", file=sys.stderr)
                if batch < args.batch_size:
                    print(file=sys.stderr)
                    return looked, moved

    looked, moved = asyncio.run(run())
    print(
        f"re-encrypted {moved} confidential details to data key {keys.data.current_id} "
        f"({looked - moved} of {looked} were on it already)"
    )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="the exchange's keys: create, rotate, re-encrypt").add_subparsers(
        dest="keys_command", required=True
    )
    keys.add_parser("init", help="create the keys the keys directory lacks").set_defaults(handler=cmd_keys_init)
    rotate = keys.add_parser("rotate", help="add a new current key of a kind; the old one keeps verifying")
    rotate.add_argument("--kind", required=True, choices=sorted(RESTART))
    rotate.set_defaults(handler=cmd_keys_rotate)
    reencrypt = keys.add_parser("reencrypt", help="move confidential details to the current data key")
    reencrypt.add_argument("--batch-size", type=int, default=500, help="listings per transaction (default 500)")
    reencrypt.set_defaults(handler=cmd_keys_reencrypt)
