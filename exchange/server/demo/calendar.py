"""The demo's working-day calendar: the demo runs from ten weeks before the present, and what it
counts (announcements, payment deadlines, instalments a year after signing) may run into a year the
exchange has no official data for. For such a year it loads its own made-up schedule, through the
same import an operator uses, and says so; for a year it has no fixture for, it stops.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from exchange.server.demo.stage import Demo
from listings import calendar

# The made-up schedules the demo may load, by year: NOT the State Council's.
FIXTURES = {2027: Path(__file__).with_name("calendar-2027-demo.json")}
HORIZON = timedelta(days=400)  # the furthest the demo counts past the present: a year's instalments


async def scene_calendar(demo: Demo) -> str:
    """The working-day calendar: a demo fixture (NOT the official schedule) for a year without data."""
    known = await demo.calendar()
    loaded = []
    for year in range(demo.now.year, (demo.present + HORIZON).year + 1):
        path = FIXTURES.get(year)
        if known.covers(year) or path is None:
            continue  # a year with data, or one the demo cannot supply: counting into it is refused (409)
        checked = calendar.read_schedule(path.read_bytes())
        by = calendar.ChangedBy(f"techx demo ({path.name}: a demo fixture, not the official schedule)")
        await demo.tx(lambda s, c=checked, b=by: calendar.import_year(s, c, b, demo.now))
        loaded.append(f"{year} from {path.name}")
    if not loaded:
        return "every year the demo counts in has data"
    return (
        f"loaded the working-day calendar for {', '.join(loaded)} — a DEMO FIXTURE, NOT the official schedule; "
        "load the State Council's schedule with `techx calendar import FILE --replace`"
    )
