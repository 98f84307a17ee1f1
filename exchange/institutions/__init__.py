"""Institutions (issue 19): a university's or research institute's own process before and after the
exchange — the disclosure of a service invention (职务科技成果披露), the transfer decision as a
configurable workflow of steps (default 发起 → 初审 → 评估 → 论证 → 决策 → 公示 → 实施), its own public
notice, the contract registration (技术合同认定登记), the distribution of income to the inventors
(收益分配) and the annual report (年度报告). See docs/institutions.md.

Use-case files: ``config.py`` (an institution's settings and role grants), ``processes.py``
(disclosures and the acts at each step), ``transfer_notice.py`` (公示), ``implementation.py``
(实施), ``contracts.py`` (contract registration), ``income.py``, ``inventors.py`` and
``distribution.py`` (receipts, inventors' accounts, plans and payouts); the rules in
``domain/``, tables in ``models.py``. It meets trading (deals, settlement) only through
protocols the composition root wires, as trading, vouchers, payments and documents meet one another.
"""

from exchange.institutions.contracts import DealReader, InstitutionsContext
from exchange.institutions.distribution import DistributionNotices
from exchange.institutions.implementation import DecidedListing, DecidedTerms
from exchange.institutions.income import IncomeReceipts
from exchange.institutions.inventors import PAYER_KIND as INVENTOR_PAYER
from exchange.institutions.inventors import InventorPayers
from exchange.institutions.processes import ProcessDocuments
from exchange.institutions.transfer_notice import TransferNotices

__all__ = [
    "INVENTOR_PAYER",
    "DealReader",
    "DecidedListing",
    "DecidedTerms",
    "DistributionNotices",
    "IncomeReceipts",
    "InstitutionsContext",
    "InventorPayers",
    "ProcessDocuments",
    "TransferNotices",
]
