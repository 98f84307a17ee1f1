"""Errors of the listings module beyond the refusals every module shares (``kernel.errors``).

The exchange's error mapping turns any of them into RFC 9457 problem details; ``errors`` names
the fields at fault.
"""

from __future__ import annotations

from kernel.errors import Conflict, DomainError, Forbidden


class ListingError(DomainError):
    problem_type = "listing-error"
    title = "The request breaks a rule of the exchange"


class InvalidListing(ListingError):
    problem_type = "invalid-listing"
    title = "The listing breaks a listing rule"


class InvalidRequest(ListingError):
    problem_type = "invalid-request"
    title = "The request cannot be carried out as given"


class NdaRequired(Forbidden):
    problem_type = "nda-required"
    title = "Accept the listing's non-disclosure agreement first"


class ObjectionPending(Conflict):
    problem_type = "objection-pending"
    title = "You already have a pending objection to this notice"


class ObjectionLimitReached(Conflict):
    problem_type = "objection-limit-reached"
    title = "Your organisation has filed as many objections to this notice as it may"


class ObjectionAnswered(Conflict):
    problem_type = "objection-answered"
    title = "The objection has been answered already"


class CalendarYearMissing(Conflict):
    """A period would count into a year the working-day calendar has no data for (SPEC §10).

    The exchange never guesses a year's working days: an operator loads the year's schedule first
    (``techx calendar import FILE`` or ``POST /api/v1/calendar/years``).
    """

    problem_type = "calendar-year-missing"
    title = "The working-day calendar has no data for that year"

    def __init__(self, year: int) -> None:
        super().__init__(
            f"the working-day calendar has no data for {year}: an operator loads the {year} schedule "
            "(techx calendar import FILE, or POST /api/v1/calendar/years) before a period may count into it",
            year=year,
        )
        self.year = year


class CalendarYearLoaded(Conflict):
    problem_type = "calendar-year-loaded"
    title = "That year of the working-day calendar is loaded already"


class InvalidCalendar(ListingError):
    problem_type = "invalid-calendar"
    title = "The working-day calendar data is not valid"
