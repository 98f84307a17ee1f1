"""Institutions (issue 19): a university's or research institute's own process before and after the
exchange — the disclosure of a service invention (职务科技成果披露), the transfer decision as a
configurable workflow of steps (default 发起 → 初审 → 评估 → 论证 → 决策 → 公示 → 实施), its own public
notice, the contract registration (技术合同认定登记), the distribution of income to the inventors
(收益分配) and the annual report (年度报告). See docs/institutions.md.

Being built. So far only the pure rules exist, in ``domain.py``: the disclosure and its checks, the
workflow's state machine with its history of passes, the records of evaluation, expert review and
decision, the notice period, and the distribution arithmetic. The tables, services, routes and
pages follow; this ``__init__`` will then name what other modules use. It is to meet trading
(listing drafts, negotiated-price notices, settlement) only through protocols the composition root
wires, as trading, vouchers, payments and documents meet one another.
"""

from exchange.institutions.distribution import DistributionNotices
from exchange.institutions.income import IncomeReceipts

__all__ = ["DistributionNotices", "IncomeReceipts"]
