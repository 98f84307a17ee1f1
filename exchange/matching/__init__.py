"""Matching between demands and achievements (docs/matching.md): the ranking rules (domain.py), an
in-memory index (index.py), the loader, feedback and service (service.py) and the feedback route."""
