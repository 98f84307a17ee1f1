"""The published credit formula (exchange/credit/domain.py): bounded 0–100, a better rating never
lowers the score, a penalty never raises it, decay and windows as documented, the grades' thresholds
and the demonstration criteria."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from exchange.credit.domain import (
    PENALTIES,
    CriteriaNotMet,
    DemonstrationFacts,
    Grade,
    PenaltyFact,
    PenaltyKind,
    ProviderGradeTooLow,
    RatingFact,
    compute_score,
    decay_weight,
    grade_of,
    refresh_cutoff,
    require_criteria,
    require_grade,
    unmet_criteria,
)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
mark = st.integers(min_value=1, max_value=5)
age = st.integers(min_value=0, max_value=3 * 365)
ratings = st.lists(
    st.builds(lambda q, t, p, d: RatingFact(q, t, p, NOW - timedelta(days=d)), mark, mark, mark, age), max_size=30
)
penalties = st.lists(
    st.builds(lambda k, d: PenaltyFact(k, NOW - timedelta(days=d)), st.sampled_from(list(PenaltyKind)), age),
    max_size=12,
)


@given(ratings, penalties)
def test_the_score_is_bounded_and_its_grade_follows_it(rs, ps):
    score = compute_score(rs, ps, NOW)
    assert 0 <= score.score_tenths <= 1000
    assert score.grade == grade_of(score.score_tenths)
    assert score.breakdown()["score"] == score.score_tenths / 10


@given(ratings, penalties, st.data())
def test_a_better_rating_never_lowers_the_score(rs, ps, data):
    if not rs:
        rs = [RatingFact(3, 3, 3, NOW)]
    i = data.draw(st.integers(min_value=0, max_value=len(rs) - 1))
    worse = rs[i]
    better = RatingFact(
        data.draw(st.integers(min_value=worse.quality, max_value=5)),
        data.draw(st.integers(min_value=worse.timeliness, max_value=5)),
        data.draw(st.integers(min_value=worse.professionalism, max_value=5)),
        worse.at,
    )
    improved = [*rs[:i], better, *rs[i + 1 :]]
    assert compute_score(improved, ps, NOW).score_tenths >= compute_score(rs, ps, NOW).score_tenths


@given(ratings, penalties, age)
def test_an_upheld_complaint_never_raises_the_score(rs, ps, days):
    before = compute_score(rs, ps, NOW)
    complaint = PenaltyFact(PenaltyKind.UPHELD_COMPLAINT, NOW - timedelta(days=days))
    after = compute_score(rs, [*ps, complaint], NOW)
    assert after.score_tenths <= before.score_tenths
    if days < PENALTIES[PenaltyKind.UPHELD_COMPLAINT].window_days and before.score_tenths >= 100:
        assert after.score_tenths == before.score_tenths - 100  # 10 points off, within its window


def test_the_documented_figures():
    # No rating: the prior, 3.5 → 62.5 points (C); five fresh 5-star ratings: (3.5×3 + 25) / 8 = 4.4375 → 85.9 (A).
    assert compute_score([], [], NOW).score_tenths == 625
    five = [RatingFact(5, 5, 5, NOW)] * 5
    assert compute_score(five, [], NOW).score_tenths == 859 and compute_score(five, [], NOW).grade is Grade.A
    # A rating a half-life old weighs half; a penalty out of its window no longer counts.
    assert decay_weight(NOW - timedelta(days=365), NOW) == 0.5
    old = PenaltyFact(PenaltyKind.MISSED_DELIVERY, NOW - timedelta(days=366))
    assert compute_score(five, [old], NOW).score_tenths == 859
    revoked = PenaltyFact(PenaltyKind.REVOCATION, NOW - timedelta(days=10))
    assert compute_score(five, [revoked], NOW).score_tenths == 709  # −15 points: B


def test_grades_and_minimum_grade():
    assert [grade_of(t) for t in (1000, 850, 849, 700, 699, 550, 549, 0)] == list("AABBCCDD")
    assert Grade.A.meets(Grade.B) and not Grade.C.meets(Grade.B)
    require_grade(None, None, uuid.uuid4(), "service_id")  # no minimum: anyone
    for grade in (None, Grade.C):
        try:
            require_grade("B", grade, uuid.uuid4(), "service_id")
        except ProviderGradeTooLow as refusal:
            assert refusal.errors == [{"field": "service_id", "message": refusal.detail}]
            assert refusal.extra["min_provider_grade"] == "B"
        else:
            raise AssertionError("a provider below the minimum grade is refused")


def test_demonstration_criteria_name_what_is_unmet():
    good = DemonstrationFacts(grade=Grade.A, engagements=5, last_upheld_at=None)
    assert unmet_criteria(good, NOW) == []
    recent = DemonstrationFacts(grade=Grade.B, engagements=2, last_upheld_at=NOW - timedelta(days=30))
    assert [c for c, _ in unmet_criteria(recent, NOW)] == ["grade", "engagements", "upheld_complaints"]
    old = DemonstrationFacts(grade=Grade.A, engagements=9, last_upheld_at=NOW - timedelta(days=400))
    assert unmet_criteria(old, NOW) == []
    try:
        require_criteria(recent, NOW)
    except CriteriaNotMet as refusal:
        assert refusal.errors[0]["field"] == "grade" and refusal.extra["criteria"] == [
            "grade",
            "engagements",
            "upheld_complaints",
        ]
    else:
        raise AssertionError("a provider short of the criteria is refused")


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_the_daily_sweep_is_due_from_each_beijing_midnight(now: datetime) -> None:
    """A score computed before the start of ``now``'s Beijing day is aged; the start is a Beijing midnight."""
    cutoff = refresh_cutoff(now)
    assert cutoff <= now < cutoff + timedelta(days=1)
    assert (cutoff + timedelta(hours=8)).time() == datetime.min.time()  # 00:00 in Beijing (UTC+8, no DST)


def test_the_test_start_is_aged_at_the_next_beijing_day() -> None:
    assert refresh_cutoff(NOW) == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 09:00 Beijing: today since 00:00
    assert refresh_cutoff(NOW + timedelta(hours=15)) == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
